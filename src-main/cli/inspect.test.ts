/**
 * The CLI's saliency, gradcheck and health commands on a library of their own: a small conv net
 * trained on the bundled sample through the CLI, then looked at as text and as --json.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../service/testing.js';
import { runCli } from './index.js';

let dir: ReturnType<typeof tempDir>;
let db: string;

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--db', db, ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false });
  const lines = argv.includes('--json') ? stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { code, stdout, stderr, lines };
}
const result = (lines: Record<string, unknown>[]) => lines.at(-1) as { type: string; ok: boolean; value: Record<string, unknown> & Record<string, unknown>[] };

beforeAll(async () => {
  dir = tempDir();
  db = join(dir.path, 'studio.sqlite');
  const r = await cli('train', '--dataset', '1', '--model', 'tiny-cnn', '--epochs', '1', '--limit', '300', '--batch-size', '25', '--seed', '3', '--health-every', '2');
  expect(r.code, r.stderr).toBe(0);
}, 180_000);
afterAll(() => dir.remove());

describe('cnn-studio saliency, gradcheck, health', () => {
  it('health: the findings and a per-layer table of the latest measurement; --json is the service\'s answer', async () => {
    const text = await cli('health', '1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/per layer, at step 12 \(epoch 1, batch 12; 6 measurements, every 2 batches\)/);
    expect(text.stdout).toMatch(/layer\s+gradient norm\s+update\/weight\s+dead ReLUs\s+act\. mean\s+act\. std\s+non-finite/);
    expect(text.stdout).toMatch(/conv2d #1\s+\d\.\d\de[-+]\d+\s+\d\.\d\de[-+]\d+\s+\d+\.\d%/);
    const json = await cli('--json', 'health', '1');
    const value = result(json.lines).value as unknown as { every: number; records: { step: number }[]; findings: unknown[] };
    expect(value.every).toBe(2);
    expect(value.records.map((r) => r.step)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(Array.isArray(value.findings)).toBe(true);
  });

  it('saliency: the top 3 and the map as characters; --json carries the map', async () => {
    const text = await cli('saliency', '1', 'test:0');
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^test:0: predicted \S.*; saliency of class \S.* \(largest \|∂score\/∂pixel\| \d\.\d\de[-+]\d+\)$/);
    expect(lines.slice(1, 4).every((l) => /^ {2}\S.*\s+\d+\.\d%\s+[█░]+$/.test(l))).toBe(true);
    // 28 rows of the map, the largest value drawn as '@'
    expect(lines.slice(4, 32)).toHaveLength(28);
    expect(lines.slice(4, 32).join('')).toContain('@@');
    const json = await cli('--json', 'saliency', '1', 'test:0', '--class', '2');
    const [item] = result(json.lines).value as unknown as { classIndex: number; top: unknown[]; map: string; image: { base64?: string } }[];
    expect(item!.classIndex).toBe(2);
    expect(item!.top).toHaveLength(3);
    expect(Buffer.from(item!.map, 'base64').length).toBe(28 * 28 * 4);
    expect(item!.image.base64).toBeUndefined();
  });

  it('gradcheck: a table per layer and parameter with pass/fail against the tolerance; --json streams progress then the result', async () => {
    const text = await cli('gradcheck', '1', '--samples', '2', '--entries', '4');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^gradient check of run 1, snapshot \d+ \(epoch 1\): float64 central differences, h = 0\.00001, on 2 test image\(s\)/);
    expect(text.stdout).toMatch(/conv2d #1\s+\S*weight\s+4\/\d+\s+\S+\s+\S+\s+pass/);
    expect(text.stdout).toMatch(/input\s+input\s+4\/1568\s+\S+\s+\S+\s+not judged/);
    expect(text.stdout).toMatch(/tolerance: median ≤ 1e-6, max ≤ 1e-2 per parameter — every layer passes/);
    const json = await cli('--json', 'gradcheck', '1', '--samples', '2', '--entries', '4');
    const progress = json.lines.filter((l) => l.type === 'inspectionProgress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatchObject({ kind: 'gradientCheck', done: progress.at(-1)!.total });
    expect(result(json.lines)).toMatchObject({ ok: true, value: { passed: true, split: 'test', indices: [0, 1] } });
  });
});
