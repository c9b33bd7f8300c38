/**
 * Memory stays bounded for a folder of huge-dimension images, whatever their number: measured as the
 * peak RSS of a child process that runs the import (its worker thread included).
 *
 * Four 16000×16000 grayscale PNGs take ~1 MB on disk and 256 MB each once decoded. The bound is a
 * baseline (the same child importing four 8×8 PNGs: Node, tsx, sharp, a worker) plus 128 MiB, half of
 * what decoding even one of them costs; the importer that decoded every file at full size before
 * looking at sizes held all four at once (3.2 GB in the report, RGB).
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { blackPng, randomPixels, removeTempDirs, runChild, tempDir, writeImage } from './fixtures.js';

afterAll(removeTempDirs);

const MiB = 1024; // peakRSS is in KiB
const HEADROOM = 128 * MiB;

interface ChildOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  trainCount?: number;
  shape?: number[];
  peakRSS: number;
}

async function importInChild(source: string, options: object = {}): Promise<ChildOutcome> {
  const cacheDir = tempDir();
  const child = await runChild('import-child.ts', [source, cacheDir, JSON.stringify(options)]);
  expect(child.stderr).toBe('');
  const outcome = JSON.parse(child.stdout) as ChildOutcome;
  expect(readdirSync(cacheDir).filter((n) => n.startsWith('.import-'))).toEqual([]);
  return outcome;
}

describe('peak memory of a folder import (child process RSS)', () => {
  const huge = tempDir();
  let baseline = 0;

  beforeAll(async () => {
    const png = blackPng(16000, 16000);
    for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) {
      mkdirSync(join(huge, name, '..'), { recursive: true });
      writeFileSync(join(huge, name), png);
    }
    const small = tempDir();
    const rng = new Rng(4);
    for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) await writeImage(join(small, name), randomPixels(rng, 8, 8, 1), 8, 8, 1);
    const outcome = await importInChild(small);
    expect(outcome.ok).toBe(true);
    baseline = outcome.peakRSS;
    console.log(`baseline peak RSS (four 8×8 PNGs): ${Math.round(baseline / MiB)} MiB`);
  });

  it('four 16000×16000 PNGs are refused from their headers: peak RSS under baseline + 128 MiB', async () => {
    const outcome = await importInChild(huge);
    console.log(`four 16000×16000 PNGs, refused: ${Math.round(outcome.peakRSS / MiB)} MiB`);
    expect(outcome.ok).toBe(false);
    expect(outcome.code).toBe('no_images');
    expect(outcome.message).toBe(`${huge}: none of the 4 files is a decodable PNG/JPEG image (e.g. ${join('a', '0.png')}: 16000×16000 pixels (256,000,000), more than the limit of 50,000,000 pixels per image)`);
    expect(outcome.peakRSS).toBeLessThan(baseline + HEADROOM);
  });

  it('the same four, allowed (maxImagePixels raised) and resized to 16×16, decode one stream at a time: peak RSS under baseline + 128 MiB', async () => {
    const outcome = await importInChild(huge, { resizeTo: [16, 16], limits: { maxImagePixels: 300_000_000 } });
    console.log(`four 16000×16000 PNGs, decoded to 16×16: ${Math.round(outcome.peakRSS / MiB)} MiB`);
    expect(outcome.ok).toBe(true);
    expect(outcome.trainCount).toBe(4);
    expect(outcome.shape).toEqual([16, 16, 1]);
    expect(outcome.peakRSS).toBeLessThan(baseline + HEADROOM);
  });
});
