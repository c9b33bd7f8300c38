import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../service/testing.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../contract/index.js';
import { Store } from './store.js';
import { cleanLintReport } from '../datasets/lint.js';

const dir = tempDir();
afterAll(() => dir.remove());

const dataset = {
  name: 'd', source: '/x', format: 'idx' as const, shape: [2, 2, 1] as [number, number, number], classNames: ['a', 'b'], trainCount: 4, testCount: 0,
  countsPerClass: { train: [2, 2], test: [0, 0] }, contentHash: 'h1', cacheFile: '/x.cnnds', lint: cleanLintReport([2, 2], [2, 2]),
};

it('migrates a new file to the current version, once; reopening changes nothing', () => {
  const path = join(dir.path, 'a.sqlite');
  const s = new Store(path);
  expect(s.schemaVersion).toBe(SCHEMA_VERSION);
  expect(s.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  const tables = s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  expect(tables).toEqual(['batch_metrics', 'datasets', 'epoch_metrics', 'evaluations', 'health_metrics', 'meta', 'owners', 'runs', 'snapshots', 'sqlite_sequence', 'sweeps']);
  s.insertDataset(dataset);
  s.close();
  const again = new Store(path);
  expect(again.listDatasets().map((d) => d.name)).toEqual(['d']);
  again.close();
});

it('refuses a database written by a newer schema', () => {
  const path = join(dir.path, 'newer.sqlite');
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  expect(() => new Store(path)).toThrow(`database schema version ${SCHEMA_VERSION + 1} is newer than this app's ${SCHEMA_VERSION}; update CNN Studio`);
});

it('enforces foreign keys: a run needs its dataset, a dataset with runs cannot be deleted, deleting a run cascades', () => {
  const s = new Store(join(dir.path, 'fk.sqlite'));
  const hyper: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 1, batchSize: 1, seed: 1, validationSplit: 0, kernels: 'reference', threads: 1, progressEvery: 1 };
  const run = { name: 'r', spec: { inputShape: [2, 2, 1] as [number, number, number], layers: [] }, specHash: 'x', totalParams: 0, hyperparameters: hyper, status: 'queued' as const, engineVersion: '0', parentRunId: null, parentSnapshotId: null, notes: '', tags: [] };
  expect(() => s.insertRun({ ...run, datasetId: 42 })).toThrow(/FOREIGN KEY constraint failed/);
  const d = s.insertDataset(dataset);
  const id = s.insertRun({ ...run, datasetId: d.id });
  expect(() => s.deleteDataset(d.id)).toThrow(/FOREIGN KEY constraint failed/);
  const metrics = { epoch: 1, step: 4, trainLoss: 1, trainAccuracy: 0.5, valLoss: null, valAccuracy: null, learningRate: 0.1, imagesPerSecond: 10, seconds: 0.4, wallTime: 0.5 };
  const snap = s.commitEpoch({ runId: id, metrics, improved: true, bestEpoch: 1, state: new Uint8Array([1, 2, 3]), kind: 'epoch', trainSeconds: 0.5,
    pendingBatches: [{ runId: id, epoch: 1, batch: 4, step: 4, loss: 1, accuracy: 0.5, learningRate: 0.1, wallTime: 0.5 }] });
  expect(s.snapshots(id)).toMatchObject([{ id: snap, epoch: 1, step: 4, kind: 'epoch', isBest: true, bytes: 3 }]);
  expect(Array.from(s.snapshot(snap)!.state)).toEqual([1, 2, 3]);
  expect(s.getRun(id)).toMatchObject({ epochsDone: 1, bestEpoch: 1, trainSeconds: 0.5, lastTrainLoss: 1 });
  s.deleteRun(id);
  for (const t of ['epoch_metrics', 'batch_metrics', 'snapshots']) expect(s.db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get()).toBe(0);
  s.deleteDataset(d.id);
  expect(s.integrityCheck()).toBe('ok');
  s.close();
});

it('rewinds a run to a snapshot: later epochs, batch rows and snapshots go', () => {
  const s = new Store(join(dir.path, 'rewind.sqlite'));
  const d = s.insertDataset(dataset);
  const hyper: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 3, batchSize: 1, seed: 1, validationSplit: 0, kernels: 'reference', threads: 1, progressEvery: 1 };
  const id = s.insertRun({ name: 'r', datasetId: d.id, spec: { inputShape: [2, 2, 1], layers: [] }, specHash: 'x', totalParams: 0, hyperparameters: hyper, status: 'running', engineVersion: '0', parentRunId: null, parentSnapshotId: null, notes: '', tags: [] });
  const snaps: number[] = [];
  for (let e = 1; e <= 2; e++) {
    snaps.push(s.commitEpoch({ runId: id, metrics: { epoch: e, step: e * 4, trainLoss: 1 / e, trainAccuracy: 0.5, valLoss: null, valAccuracy: null, learningRate: 0.1, imagesPerSecond: 1, seconds: 1, wallTime: e },
      improved: true, bestEpoch: e, state: new Uint8Array([e]), kind: 'epoch', trainSeconds: 1,
      pendingBatches: [1, 2, 3, 4].map((b) => ({ runId: id, epoch: e, batch: b, step: (e - 1) * 4 + b, loss: 1, accuracy: 0, learningRate: 0.1, wallTime: e })) }));
  }
  s.insertBatches([{ runId: id, epoch: 3, batch: 1, step: 9, loss: 1, accuracy: 0, learningRate: 0.1, wallTime: 3 }]);
  s.rewindTo(id, s.snapshots(id)[0]!);
  expect(s.epochs(id).map((e) => e.epoch)).toEqual([1]);
  expect(s.batches(id).map((b) => b.step)).toEqual([1, 2, 3, 4]);
  expect(s.snapshots(id).map((x) => x.id)).toEqual([snaps[0]]);
  expect(s.getRun(id)).toMatchObject({ epochsDone: 1, lastTrainLoss: 1 });
  s.close();
});

const HYPER: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 1, batchSize: 1, seed: 1, validationSplit: 0, kernels: 'reference', threads: 1, progressEvery: 1 };
const newRun = (datasetId: number, name = 'r') => ({ name, datasetId, spec: { inputShape: [2, 2, 1] as [number, number, number], layers: [] }, specHash: 'x', totalParams: 0, hyperparameters: HYPER, status: 'paused' as const, engineVersion: '0', parentRunId: null, parentSnapshotId: null, notes: '', tags: [] });

it('never reuses the id of a deleted run or dataset', () => {
  const s = new Store(join(dir.path, 'ids.sqlite'));
  const d1 = s.insertDataset(dataset);
  const ids = [s.insertRun(newRun(d1.id)), s.insertRun(newRun(d1.id)), s.insertRun(newRun(d1.id))];
  expect(ids).toEqual([1, 2, 3]);
  s.deleteRun(3);
  expect(s.insertRun(newRun(d1.id))).toBe(4);
  for (const id of [1, 2, 4]) s.deleteRun(id);
  s.deleteDataset(d1.id);
  expect(s.insertDataset({ ...dataset, contentHash: 'h2' }).id).toBe(2);
  s.close();
});

it('migrates a version-1 library: rows, ids and references kept, foreign keys still enforced, ids no longer reused', () => {
  const path = join(dir.path, 'v1.sqlite');
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.exec(MIGRATIONS[0]!);
  raw.pragma('user_version = 1');
  const now = '2025-01-01T00:00:00.000Z';
  raw.prepare(`INSERT INTO datasets (id, name, source, format, height, width, channels, class_names, train_count, test_count, counts_per_class,
    content_hash, cache_file, lint, created_at) VALUES (5, 'd', '/x', 'idx', 2, 2, 1, '["a","b"]', 4, 0, '{"train":[2,2],"test":[0,0]}', 'h1', '/x.cnnds', 'null', ?)`).run(now);
  const insertRun = raw.prepare(`INSERT INTO runs (id, name, dataset_id, spec, spec_hash, total_params, hyperparameters, seed, status, engine_version,
    parent_run_id, created_at, epochs_done) VALUES (?, ?, 5, '{"inputShape":[2,2,1],"layers":[]}', 'x', 0, ?, 1, ?, '0', ?, ?, 1)`);
  insertRun.run(7, 'parent', JSON.stringify(HYPER), 'running', null, now);
  insertRun.run(9, 'child', JSON.stringify(HYPER), 'completed', 7, now);
  raw.prepare(`INSERT INTO snapshots (id, run_id, epoch, step, kind, state, created_at) VALUES (3, 7, 1, 4, 'epoch', x'010203', ?)`).run(now);
  raw.prepare(`INSERT INTO epoch_metrics (run_id, epoch, step, train_loss, train_accuracy, val_accuracy, learning_rate, images_per_second, seconds, wall_time)
    VALUES (7, 1, 4, 0.5, 0.5, 0.75, 0.1, 1, 1, 1)`).run();
  // the snapshots table is rebuilt by migration 3: what refers to a snapshot must still find it
  raw.prepare('UPDATE runs SET parent_snapshot_id = 3 WHERE id = 9').run();
  raw.prepare(`INSERT INTO evaluations (id, run_id, dataset_id, snapshot_id, split, accuracy, loss, count, per_class, confusion, misclassified, created_at)
    VALUES (2, 7, 5, 3, 'train', 0.5, 1, 4, '[]', '[]', '[]', ?)`).run(now);
  raw.close();

  const s = new Store(path);
  expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  expect(s.integrityCheck()).toBe('ok');
  expect(s.db.pragma('foreign_key_check')).toEqual([]);
  expect(s.getRun(7)).toMatchObject({ name: 'parent', status: 'running', datasetId: 5, epochsDone: 1 });
  expect(s.runOwner(7)).toBeNull(); // a run from before owners has none alive: the service marks it interrupted
  expect(s.getRun(9)).toMatchObject({ parentRunId: 7 });
  expect(s.snapshots(7).map((x) => x.id)).toEqual([3]);
  expect(s.snapshots(7)[0]).toMatchObject({ epoch: 1, batch: 0, step: 4, kind: 'epoch', bytes: 3 });
  expect(Array.from(s.snapshot(3)!.state)).toEqual([1, 2, 3]);
  expect(s.getRun(9)).toMatchObject({ parentSnapshotId: 3, epochOffset: 0 });
  expect(s.getRun(7)!.bestValAccuracy).toBe(0.75); // filled in from the epochs already there
  expect(s.evaluations(7).map((e) => e.snapshotId)).toEqual([3]);
  expect(s.getDataset(5)).toMatchObject({ notes: '', tags: [], importOptions: {} });
  expect(s.epochs(7).map((e) => e.epoch)).toEqual([1]);
  expect(() => s.insertRun(newRun(42))).toThrow(/FOREIGN KEY constraint failed/);
  expect(() => s.deleteDataset(5)).toThrow(/FOREIGN KEY constraint failed/);
  s.deleteRun(9);
  expect(s.insertRun(newRun(5))).toBe(10);
  s.deleteRun(7);
  expect(s.snapshots(7)).toEqual([]); // cascades still reach the rebuilt table
  expect(s.epochs(7)).toEqual([]);
  s.close();
});
