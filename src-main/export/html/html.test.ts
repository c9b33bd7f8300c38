/**
 * "Share it" through the service and the CLI: a trained run's snapshot as one HTML file that has
 * everything inside — no script, style or font from anywhere, a policy that forbids the network —
 * and carries the snapshot's weights bit for bit; a model too big for a page is refused in words.
 * (e2e/training-share.spec.ts opens such a file in Chromium and checks its predictions.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, readTrainerState, saveModel } from '../../../src-engine/index.js';
import { runCli } from '../../cli/index.js';
import { SAMPLE_DATASET_NAME, type Service } from '../../service/service.js';
import { openService, QUICK, tempDir } from '../../service/testing.js';
import { HTML_EXPORT_MAX_BYTES } from './index.js';
import { floatsFromBase64, SHARE_DATA_ID, type ShareData } from './page/data.js';

const dir = tempDir('cnn-studio-html-');
let service: Service;
let runId: number;
let datasetId: number;

beforeAll(async () => {
  service = await openService(dir.path);
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
  runId = service.runs.start({
    datasetId, name: 'shared net',
    spec: { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    hyperparameters: { ...QUICK, epochs: 1 },
  }).id;
  expect((await service.runs.waitFor(runId)).status).toBe('completed');
});
afterAll(async () => {
  await service?.close();
  dir.remove();
});

function shareData(html: string): ShareData {
  const m = new RegExp(`<script type="application/json" id="${SHARE_DATA_ID}">(.*?)</script>`, 's').exec(html);
  if (!m) throw new Error('no model data in the page');
  return JSON.parse(m[1]!) as ShareData;
}

describe('exportRun html', () => {
  it('one self-contained file: inline script and style only, no http(s) anywhere, a CSP that forbids the network, the snapshot\'s weights bit for bit', async () => {
    const r = await service.exec('exportRun', { runId, format: 'html' });
    expect(r.files.map((f) => f.name)).toEqual([`run-${runId}.html`]);
    const bytes = Buffer.from(r.files[0]!.base64, 'base64');
    expect(r.files[0]!.bytes).toBe(bytes.length);
    const html = bytes.toString('utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // nothing from elsewhere: no src/href to load, no URL at all
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import|url\(/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect((html.match(/<script>/g) ?? []).length).toBe(1);
    // the engine's forward path is in it (the model class's own error text), not a stub
    expect(html).toContain('inputs must be finite');

    const data = shareData(html);
    const snapshot = service.store.latestSnapshot(runId)!;
    const { spec, weights } = readTrainerState(snapshot.state);
    expect(data.spec).toEqual(spec);
    expect(data.run).toEqual({ id: runId, name: 'shared net', snapshotId: snapshot.id, epoch: snapshot.epoch });
    expect(data.dataset.classNames).toHaveLength(10);
    const carried = floatsFromBase64(data.values.base64, data.values.count);
    expect(Buffer.from(carried.buffer).equals(Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength))).toBe(true);
  });

  it('any snapshot: --snapshot picks the weights', async () => {
    const first = service.store.snapshots(runId)[0]!;
    const r = await service.exec('exportRun', { runId, format: 'html', snapshotId: first.id });
    expect(shareData(Buffer.from(r.files[0]!.base64, 'base64').toString('utf8')).run.snapshotId).toBe(first.id);
  });

  it('the CLI writes the same file where --out says and says its size', async () => {
    const out = join(dir.path, 'shared.html');
    let stdout = '';
    const code = await runCli(['--db', join(dir.path, 'studio.sqlite'), 'export', String(runId), '--format', 'html', '--out', out], { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t), isTTY: false });
    expect(code, stdout).toBe(0);
    const written = readFileSync(out);
    expect(stdout).toContain(`wrote ${out} (${written.length} bytes`);
    expect(stdout).toContain('open it in any browser');
    const viaService = await service.exec('exportRun', { runId, format: 'html', fileName: 'shared.html' });
    expect(written.equals(Buffer.from(viaService.files[0]!.base64, 'base64'))).toBe(true);
  });

  it(`a model whose page would pass ${HTML_EXPORT_MAX_BYTES / 1048576} MiB is refused in words, with the numbers`, async () => {
    // 784 → 8000 → 10: 6.36 M weights, 33.9 MB as base64
    const big = buildModel({ inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 8000, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    const imported = await service.exec('importModel', { datasetId, model: Buffer.from(saveModel(big)).toString('base64'), name: 'too big to share' });
    const r = await service.call('exportRun', { runId: imported.id, format: 'html' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad_request');
    expect(r.error.message).toMatch(new RegExp(`^run ${imported.id}: the page would be 3\\d\\.\\d MiB \\(6360010 weights as base64\\), more than the 32 MiB a self-contained page may be: .*Export ONNX or model JSON instead$`));
    expect(r.error.detail?.limit).toMatchObject({ name: 'htmlExportBytes', limit: HTML_EXPORT_MAX_BYTES });
    expect(r.error.detail!.limit!.actual).toBeGreaterThan(HTML_EXPORT_MAX_BYTES);
  });
});
