/**
 * Training health in the library: migration 4 on a version-3 file, measurements written with their
 * batch rows (in the same transactions), forgotten past the snapshot a resume starts from as the
 * batch rows are, the non-finite step kept with its NaN, and gone with the run.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import type { LayerHealth } from '../../src-engine/inspect/index.js';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../contract/index.js';
import { cleanLintReport } from '../datasets/lint.js';
import { tempDir } from '../service/testing.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { Store } from './store.js';

const dir = tempDir();
afterAll(() => dir.remove());

const HYPER: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 3, batchSize: 1, seed: 1, validationSplit: 0, kernels: 'reference', threads: 1, progressEvery: 1, healthEvery: 2 };
const layer = (step: number): LayerHealth => ({
  index: 0, label: 'conv2d #1', gradientNorm: step / 10, updateRatio: 1e-3 * step, deadFraction: 0.25, activationMean: 0.5, activationStd: 0.1, nonFinite: 0,
});
const batch = (runId: number, epoch: number, b: number, step: number) => ({
  runId, epoch, batch: b, step, loss: 1, accuracy: 0, learningRate: 0.1, wallTime: step, ...(step % 2 === 0 ? { health: [layer(step)] } : {}),
});

it('migrates a version-3 library through 4 (health_metrics) to the current version, keeping its rows', () => {
  const path = join(dir.path, 'v3.sqlite');
  const raw = new Database(path);
  for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
  raw.pragma('user_version = 3');
  raw.prepare(`INSERT INTO datasets (id, name, source, format, height, width, channels, class_names, train_count, test_count, counts_per_class,
    content_hash, cache_file, lint, created_at) VALUES (5, 'd', '/x', 'idx', 2, 2, 1, '["a","b"]', 4, 0, '{"train":[2,2],"test":[0,0]}', 'h1', '/x.cnnds', 'null', '2026-01-01')`).run();
  raw.close();
  expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(4);
  const s = new Store(path);
  expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  expect(s.integrityCheck()).toBe('ok');
  expect(s.getDataset(5)).toMatchObject({ name: 'd' });
  expect(s.db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'health_metrics'").pluck().get()).toBe(1);
  s.close();
});

it('health rows are written with their batch rows, rewound with them, and deleted with the run', () => {
  const s = new Store(join(dir.path, 'health.sqlite'));
  const d = s.insertDataset({
    name: 'd', source: '/x', format: 'idx', shape: [2, 2, 1], classNames: ['a', 'b'], trainCount: 4, testCount: 0,
    countsPerClass: { train: [2, 2], test: [0, 0] }, contentHash: 'h1', cacheFile: '/x.cnnds', lint: cleanLintReport([2, 2], [2, 2]),
  });
  const id = s.insertRun({ name: 'r', datasetId: d.id, spec: { inputShape: [2, 2, 1], layers: [] }, specHash: 'x', totalParams: 0, hyperparameters: HYPER, status: 'running', engineVersion: '0', parentRunId: null, parentSnapshotId: null, notes: '', tags: [] });
  // epoch 1 through commitEpoch, the first batches of epoch 2 through an interval snapshot, one more as a flush
  s.commitEpoch({ runId: id, metrics: { epoch: 1, step: 4, trainLoss: 1, trainAccuracy: 0.5, valLoss: null, valAccuracy: null, learningRate: 0.1, imagesPerSecond: 1, seconds: 1, wallTime: 1 },
    improved: true, bestEpoch: 1, state: new Uint8Array([1]), kind: 'epoch', trainSeconds: 1, pendingBatches: [1, 2, 3, 4].map((b) => batch(id, 1, b, b)) });
  s.insertSnapshot(id, { epoch: 1, batch: 2, step: 6 }, 'interval', new Uint8Array([2]), [batch(id, 2, 1, 5), batch(id, 2, 2, 6)]);
  s.insertBatches([batch(id, 2, 3, 7), batch(id, 2, 4, 8)]);
  expect(s.health(id)).toEqual([2, 4, 6, 8].map((step) => ({ step, epoch: step <= 4 ? 1 : 2, batch: step <= 4 ? step : step - 4, layers: [layer(step)] })));
  s.insertHealthFailure(id, { step: 9, epoch: 3, batch: 1, loss: NaN, layer: { index: 0, label: 'conv2d #1', what: 'output', count: 3, of: 8 } });
  const failure = s.healthFailure(id)!;
  expect(failure).toMatchObject({ step: 9, epoch: 3, batch: 1, layer: { label: 'conv2d #1', what: 'output', count: 3, of: 8 } });
  expect(failure.loss).toBeNaN();

  // a resume from the interval snapshot forgets what came after it
  s.rewindTo(id, s.snapshots(id).find((x) => x.kind === 'interval')!);
  expect(s.health(id).map((r) => r.step)).toEqual([2, 4, 6]);
  expect(s.healthFailure(id)).toBeNull();
  s.deleteRun(id);
  expect(s.db.prepare('SELECT COUNT(*) FROM health_metrics').pluck().get()).toBe(0);
  s.close();
});
