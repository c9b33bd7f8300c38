/**
 * The service's speed figures (issue 3), printed as ratios and milliseconds:
 *  1. metric writes + snapshots as a share of training time (target ≤ 2%): a real run of the
 *     reference net through the Service, every batch reported, with the Store's write calls timed;
 *  2. listing 1,000 runs and comparing 10 runs of 50 epochs (target ≤ 100 ms each) on a synthetic
 *     database of 1,000 runs (each with 50 epoch rows and 500 batch rows).
 *
 *   npm run bench:service [-- --limit 3000 --epochs 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStudio } from '../src-main/composition.js';
import { compareRuns } from '../src-main/service/compare.js';
import { SAMPLE_DATASET_NAME } from '../src-main/service/service.js';
import { TEMPLATES } from '../src-main/service/templates.js';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../src-main/contract/index.js';
import { buildModel, Trainer } from '../src-engine/index.js';
import { toTrainConfig } from '../src-main/service/hyperparameters.js';
import { cleanLintReport } from '../src-main/datasets/lint.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'bench-service-'));

async function writeShare(): Promise<void> {
  const service = await openStudio(join(dir, 'train.sqlite'), {}, join(dir, 'train-data'));
  const store = service.store;
  let writeMs = 0;
  let writes = 0;
  let snapshotBytes = 0;
  // Time every Store method that writes during training (all run on this main thread).
  for (const method of ['insertBatches', 'commitEpoch', 'insertSnapshot', 'setStatus', 'setKernelsUsed', 'addTrainSeconds'] as const) {
    const original = (store[method] as (...a: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return original(...a);
      } finally {
        writeMs += performance.now() - t0;
        writes++;
        if (method === 'commitEpoch') snapshotBytes += (a[0] as { state: Uint8Array }).state.length;
      }
    };
  }
  const d = service.datasets.find(SAMPLE_DATASET_NAME);
  const spec = TEMPLATES.find((t) => t.name === 'reference')!.build(d.shape, d.classNames.length);
  const run = service.runs.start({ datasetId: d.id, spec, hyperparameters: { epochs: arg('epochs', 2), trainLimit: arg('limit', 3000), batchSize: 32, progressEvery: 1, seed: 1 } });
  const done = await service.runs.waitFor(run.id);
  const detail = service.runs.detail(run.id, true);
  await service.close();
  // The worker's side of a snapshot: Trainer.saveState() on the same net, timed here.
  const model = buildModel(spec, { seed: 1 });
  const n = 256;
  const trainer = new Trainer(model, { images: new Uint8Array(n * 784), labels: new Uint8Array(n), n }, toTrainConfig(detail.hyperparameters));
  trainer.step();
  const saveMs = median(Array.from({ length: 15 }, () => {
    const t = performance.now();
    trainer.saveState();
    return performance.now() - t;
  }));
  writeMs += saveMs * detail.snapshots.length;
  const share = writeMs / 1000 / done.trainSeconds;
  console.log(`  Trainer.saveState() in the worker: ${saveMs.toFixed(2)} ms per snapshot (included below)`);
  console.log(`training: ${detail.epochs.length} epochs × ${detail.hyperparameters.trainLimit} images of the reference net, ${done.kernelsUsed} kernels, ${done.trainSeconds.toFixed(2)} s`);
  console.log(`  ${detail.batches.length} batch rows + ${detail.epochs.length} epoch rows + ${detail.snapshots.length} snapshots (${(snapshotBytes / 1024).toFixed(0)} KiB) in ${writes} write calls on the main thread`);
  console.log(`  metric writes + snapshots: ${writeMs.toFixed(1)} ms = ${(share * 100).toFixed(2)}% of training time (target ≤ 2%)`);
  console.log(JSON.stringify({ bench: 'service-writes', trainSeconds: done.trainSeconds, writeMs, share }));
}

async function listAndCompare(): Promise<void> {
  const service = await openStudio(join(dir, 'many.sqlite'), { importSample: false }, join(dir, 'many-data'));
  const store = service.store;
  const classNames = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  const d = store.insertDataset({
    name: 'synthetic', source: '/synthetic', format: 'idx', shape: [28, 28, 1], classNames, trainCount: 60000, testCount: 10000,
    countsPerClass: { train: Array(10).fill(6000), test: Array(10).fill(1000) }, contentHash: 'synthetic', cacheFile: join(dir, 'none.cnnds'), lint: cleanLintReport(Array(10).fill(6000), [28, 28]),
  });
  const specs = TEMPLATES.map((t) => t.build([28, 28, 1], 10));
  const base: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 50, threads: 1 };
  const t0 = performance.now();
  const ids: number[] = [];
  store.db.transaction(() => {
    for (let r = 0; r < 1000; r++) {
      const spec = specs[r % specs.length]!;
      const id = store.insertRun({
        name: `run ${r}`, datasetId: d.id, spec, specHash: `h${r % specs.length}`, totalParams: 12_000, hyperparameters: { ...base, seed: r, optimizer: { ...base.optimizer, learningRate: 0.001 * (1 + (r % 10)) } },
        status: 'completed', engineVersion: '0.1.0', parentRunId: null, parentSnapshotId: null, notes: '', tags: ['bench'],
      });
      ids.push(id);
      for (let e = 1; e <= 50; e++) {
        const loss = 2 / e + r * 1e-4;
        store.commitEpoch({
          runId: id, metrics: { epoch: e, step: e * 10, trainLoss: loss, trainAccuracy: 1 - loss / 3, valLoss: loss * 1.1, valAccuracy: 1 - loss / 2.8, learningRate: 0.01, imagesPerSecond: 5000, seconds: 10, wallTime: e * 10 },
          improved: true, bestEpoch: e, state: new Uint8Array(0), kind: 'epoch', trainSeconds: 10,
          pendingBatches: Array.from({ length: 10 }, (_, b) => ({ runId: id, epoch: e, batch: b + 1, step: (e - 1) * 10 + b + 1, loss, accuracy: 0.5, learningRate: 0.01, wallTime: e * 10 })),
        });
      }
      if (r < 10) {
        store.insertEvaluation({
          runId: id, datasetId: d.id, snapshotId: store.latestSnapshot(id)!.id, split: 'test', accuracy: 0.85, loss: 0.4, count: 10000,
          perClass: classNames.map((className) => ({ className, precision: 0.8, recall: 0.8, f1: 0.8, support: 1000 })),
          confusion: classNames.map((_, i) => classNames.map((__, j) => (i === j ? 800 : 22))), misclassified: [],
        });
      }
    }
  })();
  console.log(`synthetic database: 1,000 runs × 50 epochs (50,000 epoch rows, 500,000 batch rows, 50,000 snapshots) built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const time = (f: () => unknown, n = 9) => median(Array.from({ length: n }, () => {
    const t = performance.now();
    f();
    return performance.now() - t;
  }));
  const list = time(() => JSON.stringify(service.runs.list({})));
  // the runs table as people use it: filtered by status and words, sorted by best accuracy
  const sorted = time(() => JSON.stringify(service.runs.list({ status: 'completed', search: 'run', sort: 'bestAccuracy' })));
  const compare = time(() => JSON.stringify(compareRuns(service.store, service.runs, service.datasets, ids.slice(0, 10))));
  const listCount = service.runs.list({}).length;
  const c = compareRuns(service.store, service.runs, service.datasets, ids.slice(0, 10));
  console.log(`  listRuns → ${listCount} runs (as JSON): median ${list.toFixed(1)} ms (target ≤ 100 ms)`);
  console.log(`  listRuns filtered (status, words) and sorted by best accuracy: median ${sorted.toFixed(1)} ms (target ≤ 100 ms)`);
  console.log(`  compareRuns of 10 runs × ${c.epochs.length} epochs (as JSON): median ${compare.toFixed(1)} ms (target ≤ 100 ms)`);
  console.log(JSON.stringify({ bench: 'service-queries', listRunsMs: list, listRunsSortedMs: sorted, compareRunsMs: compare }));
  await service.close();
}

try {
  await writeShare();
  await listAndCompare();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
