import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, readTrainerState, resolveKernels } from '../../src-engine/index.js';
import type { RunBatchEvent, RunStatusEvent, StartRunRequest } from '../contract/index.js';
import { readCache } from '../datasets/index.js';
import { SCHEMA_VERSION } from '../db/schema.js';
import type { Service } from './service.js';
import { SAMPLE_DATASET_NAME } from './service.js';
import { countRows, MLP_SPEC, openService, QUICK, tempDir } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let datasetId: number;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
});

afterAll(async () => {
  await service?.close();
  dir?.remove();
});

const finalWeights = (s: Service, runId: number) => readTrainerState(s.store.latestSnapshot(runId)!.state).weights;

describe('first start', () => {
  it('has the bundled Fashion-MNIST sample ready, 5,000 train + 1,000 test 28×28×1 images in 10 classes', () => {
    const d = service.datasets.get(datasetId);
    expect(d.name).toBe('Fashion-MNIST sample');
    expect([d.trainCount, d.testCount, d.classNames.length]).toEqual([5000, 1000, 10]);
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.countsPerClass.train.reduce((a, b) => a + b, 0)).toBe(5000);
  });

  it('runs the schema migrations, WAL and foreign keys, and passes the integrity check', () => {
    expect(service.store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(service.store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(service.store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(service.startup.integrity).toBe('ok');
  });

  it('recognises the same content imported twice and stores nothing new', async () => {
    const before = countRows(service, 'datasets');
    const r = await service.datasets.import({ path: service.datasets.get(datasetId).source, name: 'again' });
    expect(r.alreadyImported).toBe(true);
    expect(r.dataset.id).toBe(datasetId);
    expect(countRows(service, 'datasets')).toBe(before);
  });
});

describe('refusals before any run row exists', () => {
  const cases: [string, StartRunRequest, string, RegExp][] = [
    ['a spec whose kernel does not fit', {
      datasetId: 0, spec: { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 4, kernelSize: 29 }, { type: 'flatten' }, { type: 'dense', units: 10 }] },
    }, 'invalid_spec', /conv2d #1: kernel 29×29 does not fit input 28×28×1/],
    ['a spec for another input shape', { datasetId: 0, spec: { ...MLP_SPEC, inputShape: [32, 32, 3] } }, 'invalid_spec', /input is 32×32×3 but dataset .* has 28×28×1/],
    ['a classifier with 5 units for 10 classes', {
      datasetId: 0, spec: { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 5 }] },
    }, 'invalid_spec', /5 units but dataset .* has 10 classes/],
    ['a negative learning rate', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { optimizer: { learningRate: -0.1 } } }, 'invalid_hyperparameters', /learning rate must be a positive number, got -0.1/],
    ['batch size 0', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { batchSize: 0 } }, 'invalid_hyperparameters', /batch size must be an integer from 1 to 65536, got 0/],
    ['0 epochs', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { epochs: 0 } }, 'invalid_hyperparameters', /epochs must be an integer from 1 to 100000, got 0/],
    ['a validation split of 1.5', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { validationSplit: 1.5 } }, 'invalid_hyperparameters', /validation split must be a fraction from 0 to 0.9, got 1.5/],
    ['a shift of 20 px on 28×28 images', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { augment: { maxShift: 20 } } }, 'invalid_hyperparameters', /shift must be an integer from 0 to 14 pixels/],
    ['momentum 1', { datasetId: 0, spec: MLP_SPEC, hyperparameters: { optimizer: { type: 'sgd', momentum: 1 } } }, 'invalid_hyperparameters', /momentum must be in \[0, 1\), got 1/],
  ];
  for (const [name, request, code, message] of cases) {
    it(`refuses ${name} (${code})`, async () => {
      const runsBefore = countRows(service, 'runs');
      const result = await service.call('startRun', { ...request, datasetId });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(code);
      expect(result.error.message).toMatch(message);
      expect(countRows(service, 'runs')).toBe(runsBefore);
    });
  }

  it('validateSpec reports the engine message, or the dataset mismatch, without touching the database', async () => {
    const bad = await service.exec('validateSpec', { spec: { inputShape: [28, 28, 1], layers: [{ type: 'dense', units: 10 }] } });
    expect(bad.ok).toBe(false);
    expect(bad.error!.message).toBe('dense #1: input 28×28×1 is not flat; add a flatten layer before it');
    const mismatch = await service.exec('validateSpec', { datasetId, spec: { ...MLP_SPEC, inputShape: [28, 28, 3] } });
    expect([mismatch.ok, mismatch.datasetMessage]).toEqual([false, `the model's input is 28×28×3 but dataset "${SAMPLE_DATASET_NAME}" has 28×28×1 images`]);
    const good = await service.exec('validateSpec', { datasetId, spec: MLP_SPEC });
    expect([good.ok, good.totalParams]).toEqual([true, 12730]);
  });

  it('answers an unknown dataset with not_found and an unknown command with bad_request', async () => {
    const r = await service.call('startRun', { datasetId: 999, spec: MLP_SPEC });
    expect(r.ok ? null : r.error.code).toBe('not_found');
    const u = await service.call('noSuchCommand' as 'listRuns', {});
    expect(u.ok ? null : u.error.code).toBe('bad_request');
  });
});

describe('a run, end to end', () => {
  it('trains, streams batch and epoch events, stores metrics, snapshots (best marked) and timings', async () => {
    const statuses: RunStatusEvent[] = [];
    const batches: RunBatchEvent[] = [];
    const epochs: number[] = [];
    const offs = [
      service.on('runStatus', (e) => statuses.push(e)),
      service.on('runProgress', (e) => (e.kind === 'batch' ? batches.push(e) : epochs.push(e.epoch))),
    ];
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, augment: { flipHorizontal: true, maxShift: 2 } }, tags: ['quick'] });
    expect(run.status).toBe('queued');
    const done = await service.runs.waitFor(run.id);
    offs.forEach((off) => off());
    expect(done.status).toBe('completed');
    expect(done.stopReason).toBe('completed');
    expect(statuses.filter((s) => s.runId === run.id).map((s) => s.status)).toEqual(['queued', 'running', 'completed']);
    expect(epochs).toEqual([1, 2]);
    // 300 images, 25 per batch, 2 epochs: 24 steps, each reported (progressEvery 1)
    expect(batches.filter((b) => b.runId === run.id).map((b) => b.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const detail = service.runs.detail(run.id, true);
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(detail.epochs[1]!.step).toBe(24);
    expect(detail.batches).toHaveLength(24);
    expect(detail.epochs.every((e) => e.valAccuracy !== null && e.imagesPerSecond > 0 && e.wallTime > 0)).toBe(true);
    expect(detail.snapshots.map((s) => [s.epoch, s.kind])).toEqual([[1, 'epoch'], [2, 'epoch']]);
    expect(detail.snapshots.filter((s) => s.isBest).map((s) => s.epoch)).toEqual([detail.bestEpoch]);
    expect(detail.hyperparameters.augment).toEqual({ flipHorizontal: true, maxShift: 2 });
    // every default is filled in: the stored run says exactly what it trained with
    expect(detail.hyperparameters.optimizer).toEqual({ type: 'sgd', learningRate: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 });
    expect(detail.hyperparameters.schedule).toEqual({ type: 'constant' });
    expect(detail.kernelsUsed).toMatch(/\w/);
    expect(detail.engineVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(detail.startedAt).not.toBeNull();
    expect(detail.finishedAt).not.toBeNull();
    expect(detail.trainSeconds).toBeGreaterThan(0);
    expect(detail.tags).toEqual(['quick']);
  });

  it('pauses mid-epoch, resumes from the pause snapshot, and ends bit-identical to an uninterrupted run', async () => {
    const h = { ...QUICK, epochs: 3, kernels: 'reference' as const };
    const paused = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: h });
    let pausing: Promise<unknown> | null = null;
    const off = service.on('runProgress', (e) => {
      if (e.runId === paused.id && e.kind === 'batch' && e.step === 5 && !pausing) pausing = service.runs.pause(paused.id);
    });
    const afterPause = await service.runs.waitFor(paused.id);
    off();
    await pausing;
    expect(afterPause.status).toBe('paused');
    const pauseSnapshot = service.runs.detail(paused.id, true).snapshots.at(-1)!;
    expect(pauseSnapshot.kind).toBe('pause');
    expect(pauseSnapshot.step).toBeGreaterThanOrEqual(5);
    expect(pauseSnapshot.step).toBeLessThan(36);
    expect(service.runs.resume(paused.id).status).toBe('queued');
    expect((await service.runs.waitFor(paused.id)).status).toBe('completed');

    const straight = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: h });
    expect((await service.runs.waitFor(straight.id)).status).toBe('completed');
    const a = finalWeights(service, paused.id);
    const b = finalWeights(service, straight.id);
    expect(a.length).toBe(12730);
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    expect(service.runs.detail(paused.id, true).epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const r = await service.call('resumeRun', { id: paused.id });
    expect(r.ok ? null : r.error.message).toMatch(/is completed; only a paused, stopped or interrupted run can be resumed; fork it/);
  });

  it('threads are a speed setting: 1 and 2 gradient threads give bit-identical weights (fast kernels, dropout)', async () => {
    const spec = { ...MLP_SPEC, layers: [...MLP_SPEC.layers.slice(0, -1), { type: 'dropout' as const, rate: 0.2 }, MLP_SPEC.layers.at(-1)!] };
    const runs = [1, 2].map((threads) => service.runs.start({ datasetId, spec, hyperparameters: { ...QUICK, kernels: 'fast', threads } }));
    for (const r of runs) expect((await service.runs.waitFor(r.id)).status).toBe('completed');
    const [a, b] = runs.map((r) => finalWeights(service, r.id));
    expect(service.runs.detail(runs[1]!.id, true).hyperparameters.threads).toBe(2);
    expect(Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength).equals(Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength))).toBe(true);
    const refused = await service.call('startRun', { datasetId, spec, hyperparameters: { ...QUICK, threads: 0 } });
    expect(refused.ok ? null : refused.error.message).toBe('threads must be an integer from 1 to 64, got 0');
  });

  it('stops a queued run without training it (pool of 1)', async () => {
    const first = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
    const second = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
    expect(service.runs.detail(second.id, true).status).toBe('queued');
    const stopped = await service.runs.stop(second.id);
    expect(stopped.status).toBe('stopped');
    expect(stopped.epochsDone).toBe(0);
    expect((await service.runs.waitFor(first.id)).status).toBe('completed');
    expect(service.runs.detail(second.id, true).snapshots).toHaveLength(0);
  });

  it('early stopping with patience 1 stops early, records the option, and the final snapshot holds the best weights', async () => {
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 12, earlyStopping: { patience: 1, monitor: 'valLoss' }, optimizer: { learningRate: 0.2 } } });
    const done = await service.runs.waitFor(run.id);
    expect(done.hyperparameters.earlyStopping).toEqual({ patience: 1, minDelta: 0, monitor: 'valLoss' });
    expect(done.status).toBe('completed');
    expect(done.stopReason).toBe('early-stopped');
    expect(done.epochsDone).toBeLessThan(12);
    // the final state holds the best epoch's weights
    const snaps = service.runs.detail(run.id, true).snapshots;
    const best = snaps.find((s) => s.isBest)!;
    const bestWeights = readTrainerState(service.store.snapshot(best.id)!.state).weights;
    expect(Array.from(finalWeights(service, run.id))).toEqual(Array.from(bestWeights));
  });

  it('a NaN loss fails the run with a message and keeps the last good snapshot', async () => {
    const spec = { inputShape: [28, 28, 1] as [number, number, number], layers: [{ type: 'flatten' as const }, { type: 'dense' as const, units: 64, activation: 'linear' as const }, { type: 'dense' as const, units: 10 }] };
    const run = service.runs.start({ datasetId, spec, hyperparameters: { epochs: 10, batchSize: 50, trainLimit: 500, seed: 1, optimizer: { type: 'sgd', learningRate: 1, momentum: 0.9 } } });
    const done = await service.runs.waitFor(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/loss became NaN at epoch \d+, batch \d+/);
    const snaps = service.runs.detail(run.id, true).snapshots;
    expect(snaps.length).toBeGreaterThanOrEqual(1);
    expect(done.epochsDone).toBe(snaps.at(-1)!.epoch);
    expect(finalWeights(service, run.id).every(Number.isFinite)).toBe(true);
  });
});

describe('fork, compare, evaluate, export, thumbnails', () => {
  let parentId: number;
  let forkId: number;

  beforeAll(async () => {
    parentId = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK, name: 'parent' }).id;
    await service.runs.waitFor(parentId);
  });

  it('forks from an earlier snapshot with a changed learning rate; the lineage is kept', async () => {
    const first = service.runs.detail(parentId, true).snapshots[0]!;
    const fork = service.runs.fork({ runId: parentId, snapshotId: first.id, hyperparameters: { optimizer: { learningRate: 0.05 }, epochs: 1 } });
    forkId = fork.id;
    expect(fork.parentRunId).toBe(parentId);
    expect(fork.parentSnapshotId).toBe(first.id);
    expect(fork.hyperparameters.optimizer.learningRate).toBe(0.05);
    expect(fork.hyperparameters.trainLimit).toBe(300);
    expect((await service.runs.waitFor(fork.id)).status).toBe('completed');
    const d = service.runs.detail(fork.id, true);
    expect(d.lineage).toEqual([{ runId: parentId, snapshotId: first.id, epoch: 1 }]);
    expect(service.runs.detail(parentId, true).children).toContain(fork.id);
    // the fork started from the snapshot's weights, not from a fresh init: its first-epoch train loss is
    // close to the parent's second epoch, far below a fresh run's first epoch
    const parentEpochs = service.runs.detail(parentId, true).epochs;
    expect(d.epochs[0]!.trainLoss).toBeLessThan(parentEpochs[0]!.trainLoss);
  });

  it('a fork trains on from its snapshot\'s weights, bit for bit', async () => {
    // A learning rate so small that no float32 weight moves: the fork's final weights must then be
    // exactly the snapshot's — and not a fresh init's, which the same seed would give.
    const snapshot = service.runs.detail(parentId, false).snapshots[0]!;
    const fork = service.runs.fork({ runId: parentId, snapshotId: snapshot.id, hyperparameters: { optimizer: { type: 'sgd', learningRate: 1e-30, momentum: 0 }, epochs: 1 } });
    expect((await service.runs.waitFor(fork.id)).status).toBe('completed');
    const from = readTrainerState(service.store.snapshot(snapshot.id)!.state).weights;
    const after = finalWeights(service, fork.id);
    const fresh = buildModel(MLP_SPEC, { seed: fork.hyperparameters.seed }).values;
    expect(Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(Buffer.from(from.buffer, from.byteOffset, from.byteLength))).toBe(true);
    expect(Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(Buffer.from(fresh.buffer, fresh.byteOffset, fresh.byteLength))).toBe(false);
    service.runs.delete(fork.id);
  });

  it('evaluates on the test set in a worker and stores accuracy, per-class metrics, confusion and misclassified', async () => {
    const e = await service.evaluations.evaluate({ runId: parentId });
    expect(e.split).toBe('test');
    expect(e.count).toBe(1000);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1000);
    const correct = e.confusion.reduce((s, row, i) => s + row[i]!, 0);
    expect(e.accuracy).toBeCloseTo(correct / 1000, 12);
    expect(e.accuracy).toBeGreaterThan(0.2); // chance is 0.1; 24 steps of a tiny MLP
    // the same number from the engine directly, on the main thread
    const { spec, weights } = readTrainerState(service.store.latestSnapshot(parentId)!.state);
    const model = buildModel(spec, { kernels: resolveKernels(service.runs.detail(parentId, true).hyperparameters.kernels) });
    model.values.set(weights);
    const test = readCache(service.store.getDataset(datasetId)!.cacheFile).test!;
    const x = Float32Array.from(test.images, (v) => v / 255);
    expect(model.evaluate(x, test.labels, test.n).accuracy).toBeCloseTo(e.accuracy, 12);
    expect(e.perClass).toHaveLength(10);
    expect(e.perClass.reduce((s, c) => s + c.support, 0)).toBe(1000);
    expect(e.misclassified).toHaveLength(1000 - correct);
    const m = e.misclassified[0]!;
    expect(m.label).not.toBe(m.predicted);
    expect(m.probabilities).toHaveLength(10);
    expect(m.probabilities.indexOf(Math.max(...m.probabilities))).toBe(m.predicted);
    expect(service.runs.detail(parentId, true).testAccuracy).toBe(e.accuracy);
    await service.evaluations.evaluate({ runId: forkId });
  });

  it('cancels an evaluation in progress: it rejects with code cancelled and stores nothing', async () => {
    const before = service.runs.detail(parentId, true).evaluations.length;
    const pending = service.evaluations.evaluate({ runId: parentId, split: 'train' });
    expect(service.evaluations.cancel(parentId)).toEqual({ cancelled: true });
    await expect(pending).rejects.toMatchObject({ code: 'cancelled', message: `evaluation of run ${parentId} cancelled` });
    expect(service.runs.detail(parentId, true).evaluations.length).toBe(before);
    expect(service.evaluations.cancel(parentId)).toEqual({ cancelled: false });
  });

  it('compares runs: aligned epochs, hyperparameter and architecture differences, per-class F1', async () => {
    const other = service.runs.start({ datasetId, spec: { ...MLP_SPEC, layers: [{ type: 'flatten' }, { type: 'dense', units: 8 }, { type: 'dense', units: 10 }] }, hyperparameters: { ...QUICK, epochs: 1 } });
    await service.runs.waitFor(other.id);
    const c = await service.exec('compareRuns', { ids: [parentId, forkId, other.id] });
    expect(c.epochs).toEqual([1, 2]);
    expect(c.series[forkId]!.valAccuracy[1]).toBeNull();
    expect(c.series[parentId]!.trainLoss.every((v) => typeof v === 'number')).toBe(true);
    const lr = c.hyperparameterDiffs.find((d) => d.path === 'optimizer.learningRate');
    expect(lr?.values).toEqual([0.01, 0.05, 0.01]);
    expect(c.hyperparameterDiffs.find((d) => d.path === 'epochs')?.values).toEqual([2, 1, 1]);
    expect(c.hyperparameterDiffs.some((d) => d.path === 'seed')).toBe(false);
    expect(c.sameArchitecture).toBe(false);
    expect(c.architectureDiffs.map((d) => d.layer)).toEqual([2, 3]);
    expect(c.architectureDiffs[0]!.values[2]).toMatch(/^dense 8 → 1×1×8 \(6280 params\)$/);
    expect(c.perClass[0]!.f1[0]).toBeGreaterThanOrEqual(0);
    expect(c.perClass[0]!.f1[2]).toBeNull();
    expect(c.testAccuracy[2]).toBeNull();
  });

  it('exports model JSON + weights, ONNX and metrics CSV as bytes; a request cannot name a path', async () => {
    const json = await service.exec('exportRun', { runId: parentId, format: 'json', fileName: 'model.json' });
    expect(json.files.map((f) => f.name)).toEqual(['model.json', 'model.json.bin']);
    expect(Buffer.from(json.files[1]!.base64, 'base64').length).toBe(12730 * 4);
    const meta = JSON.parse(Buffer.from(json.files[0]!.base64, 'base64').toString('utf8'));
    expect([meta.classNames[0], meta.weights.file]).toEqual(['T-shirt/top', 'model.json.bin']);
    const onnx = await service.exec('exportRun', { runId: parentId, format: 'onnx' });
    expect(onnx.files[0]!.name).toBe(`run-${parentId}.onnx`);
    expect(onnx.files[0]!.bytes).toBeGreaterThan(12730 * 4);
    const csv = await service.exec('exportRun', { runId: parentId, format: 'csv' });
    const text = Buffer.from(csv.files[0]!.base64, 'base64').toString('utf8').trim().split('\n');
    expect(text[0]).toBe('epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,wall_seconds');
    expect(text).toHaveLength(3);
    // A transport's request may not choose where the service writes.
    const db = join(dir.path, 'studio.sqlite');
    for (const request of [{ runId: parentId, format: 'onnx', outPath: db }, { runId: parentId, format: 'onnx', fileName: '../studio.sqlite' }]) {
      const r = await service.call('exportRun', request);
      expect(r.ok ? null : r.error.code).toBe('bad_request');
    }
    expect(service.store.integrityCheck()).toBe('ok');
  });

  it('gives thumbnails as PNG (scaled) and raw pixels', async () => {
    const [png] = await service.exec('getThumbnails', { datasetId, split: 'test', indices: [3], scale: 2 });
    const bytes = Buffer.from(png!.base64, 'base64');
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(56);
    const [raw] = await service.exec('getThumbnails', { datasetId, split: 'test', indices: [3], format: 'raw' });
    expect(Buffer.from(raw!.base64, 'base64').length).toBe(784);
    expect(raw!.className).toBe(service.datasets.get(datasetId).classNames[raw!.label]);
    const bad = await service.call('getThumbnails', { datasetId, split: 'test', indices: [1000] });
    expect(bad.ok ? null : bad.error.message).toBe('image index 1000 is outside the test split (0 to 999)');
  });

  it('notes and tags; deleting a dataset in use is refused; deleting a run removes its rows', async () => {
    expect(service.runs.update({ id: parentId, notes: 'baseline', tags: ['a', 'b'] }).tags).toEqual(['a', 'b']);
    const inUse = await service.call('deleteDataset', { id: datasetId });
    expect(inUse.ok ? null : inUse.error.code).toBe('in_use');
    const victim = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
    await service.runs.waitFor(victim.id);
    service.runs.delete(victim.id);
    const left = (t: string) => service.store.db.prepare(`SELECT COUNT(*) FROM ${t} WHERE run_id = ?`).pluck().get(victim.id);
    expect([left('epoch_metrics'), left('batch_metrics'), left('snapshots')]).toEqual([0, 0, 0]);
  });
});

describe('import failures leave the database unchanged', () => {
  it('refuses a folder with a single class and a bad IDX file, with one-line messages', async () => {
    const bad = join(dir.path, 'bad-import');
    mkdirSync(join(bad, 'only-class'), { recursive: true });
    const png = (await service.exec('getThumbnails', { datasetId, split: 'train', indices: [0] }))[0]!;
    writeFileSync(join(bad, 'only-class', 'a.png'), Buffer.from(png.base64, 'base64'));
    const idx = join(dir.path, 'bad-idx');
    mkdirSync(idx);
    writeFileSync(join(idx, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 9, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]));
    writeFileSync(join(idx, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 1, 0]));
    const datasetsBefore = JSON.stringify(service.datasets.list());
    const cacheBefore = readdirSync(service.cacheDir).sort();
    for (const path of [bad, idx, join(dir.path, 'nope')]) {
      const r = await service.call('importDataset', { path });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('import_failed');
      expect(r.error.message).not.toContain('\n');
      expect(r.error.message.length).toBeGreaterThan(10);
    }
    expect(JSON.stringify(service.datasets.list())).toBe(datasetsBefore);
    expect(readdirSync(service.cacheDir).sort()).toEqual(cacheBefore);
    expect(existsSync(service.cacheDir)).toBe(true);
  });
});

describe('import progress and cancellation', () => {
  const FULL = '/usr/share/datasets/fashion-mnist';
  it('streams progress events and cancels an import of the full Fashion-MNIST; nothing is stored', async (ctx) => {
    if (!existsSync(FULL)) {
      console.log(`skipped: ${FULL} is not installed (apt-get install dataset-fashion-mnist)`);
      ctx.skip();
    }
    const before = JSON.stringify(service.datasets.list());
    const cacheBefore = readdirSync(service.cacheDir).sort();
    const phases: string[] = [];
    const off = service.on('importProgress', (p) => {
      if (p.importId !== 'full') return;
      phases.push(p.phase);
      if (phases.length === 1) expect(service.datasets.cancelImport('full')).toEqual({ cancelled: true });
    });
    const r = await service.call('importDataset', { path: FULL, importId: 'full' });
    off();
    expect(phases.length).toBeGreaterThanOrEqual(1);
    expect(r.ok ? null : r.error.code).toBe('cancelled');
    expect(service.datasets.cancelImport('full')).toEqual({ cancelled: false });
    expect(JSON.stringify(service.datasets.list())).toBe(before);
    expect(readdirSync(service.cacheDir).sort()).toEqual(cacheBefore);
  });
});

describe('starting the service', () => {
  it('removes what imports of dead processes left in the cache folder, and keeps a live process\'s', async () => {
    const local = tempDir();
    const cache = join(local.path, 'datasets');
    mkdirSync(cache, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const stale = [`.import-${deadPid}-1a2b3c.partial`, `.import-${deadPid}-1a2b3c.extract`];
    writeFileSync(join(cache, stale[0]!), 'half a cache file');
    mkdirSync(join(cache, stale[1]!, 'inner'), { recursive: true });
    const live = `.import-${process.pid}-4d5e6f.partial`;
    writeFileSync(join(cache, live), 'an import of this very process');
    const s = await openService(local.path, { importSample: false });
    try {
      expect(readdirSync(cache).sort()).toEqual([live]);
    } finally {
      await s.close();
      local.remove();
    }
  });
});

describe('closing the service', () => {
  it('pauses a running run with a snapshot; after reopening it resumes to completion on the reference kernels', async () => {
    const local = tempDir();
    const first = await openService(local.path);
    const id = first.datasets.find(SAMPLE_DATASET_NAME).id;
    const run = first.runs.start({ datasetId: id, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 40, kernels: 'reference' } });
    await new Promise<void>((resolve) => first.on('runProgress', (e) => e.kind === 'batch' && e.step >= 3 && resolve()));
    await first.close();
    const second = await openService(local.path);
    try {
      const paused = second.runs.detail(run.id, true);
      expect(paused.status).toBe('paused');
      expect(paused.snapshots.at(-1)!.kind).toBe('pause');
      expect(second.startup.interrupted).toEqual([]);
      second.runs.resume(run.id);
      const done = await second.runs.waitFor(run.id);
      expect([done.status, done.epochsDone, done.kernelsUsed]).toEqual(['completed', 40, 'reference']);
    } finally {
      await second.close();
      local.remove();
    }
  });
});
