/**
 * The PyTorch hand-off, end to end, with Debian's PyTorch (python3-torch; skipped with the reason
 * printed where it is missing): a run with batch norm, dropout, AdamW, label smoothing and flips is
 * exported as a PyTorch project; its verify.py computes the engine's first-batch loss and every
 * gradient within 1e-4; train.py trains one short epoch under torch's launcher with 2 processes on
 * CPU (DistributedDataParallel, gloo); import-model brings the weights back as a run whose test
 * accuracy in the studio equals PyTorch's own within 0.1 point.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../contract/index.js';
import { readCache } from '../datasets/cache.js';
import { writeImage } from '../datasets/test/fixtures.js';
import { Rng } from '../../src-engine/rng.js';
import { datasetFiles } from './pytorch/dataset-files.js';
import { DATA_PY } from './pytorch/data-py.js';
import type { Service } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';

const PYTHON = '/usr/bin/python3';
const torchVersion = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
})();
if (!torchVersion) console.log(`the PyTorch hand-off test is skipped: ${PYTHON} cannot import torch and numpy (install python3-torch; .ci/run does)`);
const hasPillow = torchVersion !== null && spawnSync(PYTHON, ['-c', 'import PIL']).status === 0;
if (torchVersion && !hasPillow) console.log(`data.py's folder reader is not checked: ${PYTHON} cannot import PIL (install python3-pil); the CSV reader is`);

const SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'batchnorm' },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'conv2d', filters: 12, kernelSize: 3, activation: 'leakyRelu', alpha: 0.1 },
    { type: 'batchnorm' },
    { type: 'avgpool2d', poolSize: 2, padding: 'same' },
    { type: 'dropout', rate: 0.2 },
    { type: 'flatten' },
    { type: 'dense', units: 32, activation: 'tanh' },
    { type: 'batchnorm' },
    { type: 'dense', units: 10 },
  ],
};

let dir: ReturnType<typeof tempDir>;
let service: Service;
beforeAll(async () => {
  dir = tempDir();
  if (torchVersion) service = await openService(dir.path, { poolSize: 1 });
});
afterAll(async () => {
  await service?.close();
  dir.remove();
});

/** The last JSON line a Python script printed. */
function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as Record<string, unknown>;
}

const ENV = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MALLOC_MMAP_THRESHOLD_: '1073741824', MALLOC_TRIM_THRESHOLD_: '4294967296' };

describe.runIf(torchVersion)(`the PyTorch hand-off (PyTorch ${torchVersion})`, () => {
  it('export → verify.py (loss and gradients ≤ 1e-4) → 1 epoch on 2 processes (DDP, gloo) → import-model → the studio\'s test accuracy = PyTorch\'s within 0.1 point', async () => {
    const run = service.runs.start({
      datasetId: 1, spec: SPEC, name: 'handoff',
      hyperparameters: {
        epochs: 1, batchSize: 32, trainLimit: 640, validationSplit: 0.1, seed: 3, threads: 2,
        optimizer: { type: 'adamw', learningRate: 0.003 }, labelSmoothing: 0.1, augment: { flipHorizontal: true },
      },
    });
    expect((await service.runs.waitFor(run.id)).status).toBe('completed');

    const project = join(dir.path, 'project');
    mkdirSync(project);
    const exported = await service.exec('exportRun', { runId: run.id, format: 'pytorch' });
    for (const f of exported.files) writeFileSync(join(project, f.name), Buffer.from(f.base64, 'base64'));
    expect(exported.files.map((f) => f.name)).toEqual(expect.arrayContaining(['model.py', 'train.py', 'data.py', 'studio.py', 'verify.py', 'torchrun.py', 'weights.cnnm', 'hyperparameters.json', 'dataset.json', 'split.json', 'README.md']));
    const dataset = JSON.parse(readFileSync(join(project, 'dataset.json'), 'utf8')) as { format: string; files: { train: string[][] } };
    expect(dataset.format).toBe('idx');
    expect(dataset.files.train[0]![0]).toMatch(/train-images-idx3-ubyte\.gz$/);
    expect(JSON.parse(readFileSync(join(project, 'hyperparameters.json'), 'utf8'))).toMatchObject({ optimizer: { type: 'adamw' }, labelSmoothing: 0.1, trainLimit: 640 });

    // PyTorch (float64) against the engine's first-batch loss and gradients, stored at export
    const verify = spawnSync(PYTHON, ['verify.py'], { cwd: project, encoding: 'utf8', env: ENV });
    expect(verify.status, verify.stderr).toBe(0);
    const v = lastJson(verify.stdout) as { ok: boolean; loss: { relativeError: number }; worstGradientError: number; gradientErrors: Record<string, number> };
    console.log(`verify.py: loss ${v.loss.relativeError.toExponential(1)}, worst gradient ${v.worstGradientError.toExponential(1)} over ${Object.keys(v.gradientErrors).length} tensors`);
    expect(v.ok).toBe(true);
    expect(v.loss.relativeError).toBeLessThanOrEqual(1e-4);
    expect(v.worstGradientError).toBeLessThanOrEqual(1e-4);
    expect(Object.keys(v.gradientErrors)).toHaveLength(14);

    // torch's launcher (torchrun.py: torchrun with its Python 3.11 fix), 2 processes on CPU
    const train = spawnSync(PYTHON, ['torchrun.py', '--nproc_per_node', '2', 'train.py', '--threads', '1'], { cwd: project, encoding: 'utf8', env: ENV, timeout: 900_000 });
    expect(train.status, train.stderr.slice(-2000)).toBe(0);
    const summary = lastJson(train.stdout) as { done: boolean; processes: number; testAccuracy: number; out: string };
    expect(summary).toMatchObject({ done: true, processes: 2 });
    expect(existsSync(summary.out)).toBe(true);

    const imported = await service.exec('importModel', { datasetId: 1, model: readFileSync(summary.out).toString('base64'), name: 'from pytorch' });
    expect(imported).toMatchObject({ status: 'completed', name: 'from pytorch', kernelsUsed: `pytorch ${torchVersion}` });
    const evaluation = await service.exec('evaluateRun', { runId: imported.id, split: 'test' });
    console.log(`test accuracy: PyTorch ${(100 * summary.testAccuracy).toFixed(2)}%, the studio ${(100 * evaluation.accuracy).toFixed(2)}% (${evaluation.count} images)`);
    expect(evaluation.count).toBe(1000);
    expect(Math.abs(evaluation.accuracy - summary.testAccuracy)).toBeLessThanOrEqual(0.001);
    // it learned in PyTorch (the one epoch there started from the studio's epoch)
    expect(summary.testAccuracy).toBeGreaterThan(0.5);
  }, 1_200_000);

  it('data.py reads a CSV dataset and a folder of PNGs (RGB and gray, one off-size image) to the very pixels and labels the studio imported', async () => {
    const rng = new Rng(5);
    // CSV: a header, 12 rows of 4×4 gray in 0..1 floats (scaled by 255), labels 0..2
    const csv = ['label,' + Array.from({ length: 16 }, (_, i) => `p${i}`).join(',')];
    for (let r = 0; r < 12; r++) csv.push([r % 3, ...Array.from({ length: 16 }, () => (rng.int(256) / 255).toFixed(4))].join(','));
    const csvPath = join(dir.path, 'tiny.csv');
    writeFileSync(csvPath, csv.join('\n') + '\n');
    // a folder: classes "b" and "a10"/"a9" (natural order), 6×5 RGB PNGs, one gray, one 7×5 (skipped)
    const root = join(dir.path, 'pngs');
    for (const [cls, count] of [['b', 3], ['a9', 2], ['a10', 2]] as const) {
      mkdirSync(join(root, cls), { recursive: true });
      for (let i = 0; i < count; i++) {
        const gray = cls === 'a9' && i === 0;
        const pixels = Buffer.alloc(6 * 5 * 3);
        for (let p = 0; p < 30; p++) { const v = rng.int(256); for (let c = 0; c < 3; c++) pixels[p * 3 + c] = gray ? v : rng.int(256); }
        await writeImage(join(root, cls, `img${i + 1}.png`), pixels, 6, 5, 3);
      }
    }
    await writeImage(join(root, 'b', 'odd.png'), Buffer.alloc(7 * 5 * 3, 9), 7, 5, 3);

    for (const path of hasPillow ? [csvPath, root] : [csvPath]) {
      const { dataset: d } = await service.datasets.import({ path });
      const row = service.datasets.row(d.id);
      const project = join(dir.path, `data-${d.id}`);
      mkdirSync(project);
      writeFileSync(join(project, 'data.py'), DATA_PY);
      writeFileSync(join(project, 'dataset.json'), JSON.stringify({ format: d.format, files: datasetFiles(row.source, row.format), shape: d.shape, classNames: d.classNames, trainCount: d.trainCount, testCount: d.testCount }));
      const py = spawnSync(PYTHON, ['-c', 'import data, sys; x, y = data.load(".")["train"]; sys.stdout.buffer.write(x.tobytes() + y.tobytes())'], { cwd: project, env: ENV });
      expect(py.status, py.stderr.toString()).toBe(0);
      const cache = readCache(row.cacheFile);
      const expected = Buffer.concat([Buffer.from(cache.train.images), Buffer.from(cache.train.labels)]);
      expect(py.stdout.equals(expected), `${d.format}: data.py's pixels and labels = the studio's`).toBe(true);
    }
  });

  it('a file that is not a model, or a model whose spec does not fit the dataset, is refused naming the problem', async () => {
    const bad = await service.call('importModel', { datasetId: 1, model: Buffer.from('hello, this is not a model').toString('base64') });
    expect(bad.ok ? null : bad.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/not a CNN Studio model file/) });
  });
});
