/**
 * A confusion cell's images, paged from an evaluation's stored predictions, and time travel's
 * evaluations of a snapshot, computed once and then answered from the store. The cell's images are
 * checked against the engine run here on the same snapshot: every image's true class is the cell's
 * row, the engine predicts the cell's column, and its top-3 are the engine's probabilities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, readTrainerState, resolveKernels } from '../../src-engine/index.js';
import type { EvaluationInfo } from '../contract/index.js';
import { readCache, seededSplit } from '../datasets/index.js';
import { workerFactories } from '../worker-factories/index.js';
import { ServiceError } from './errors.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, MLP_SPEC, openService, QUICK, tempDir } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let evaluationWorkers = 0;
let runId: number;
let sampleId: number;
let sample: ReturnType<typeof readCache>;
let epochSnapshots: { id: number; epoch: number }[];

/** The snapshot's class probabilities of every test image, computed here, outside any worker, as the
 *  evaluation computes them (classify, in the same chunks of 256: other chunkings differ in the last bits). */
const engineTestProbabilities = (snapshotId: number) => {
  const { spec, weights } = readTrainerState(service.store.snapshot(snapshotId)!.state);
  const model = buildModel(spec, { kernels: resolveKernels(service.runs.row(runId).hyperparameters.kernels) });
  model.values.set(weights);
  const t = sample.test!;
  return model.classify(Float32Array.from(t.images, (v) => v / 255), t.labels, t.n, 256).probabilities;
};

/** Every image of a cell, page after page of `limit`. */
async function wholeCell(e: EvaluationInfo, label: number, predicted: number, limit: number) {
  const images = [];
  const totals = new Set<number>();
  for (let offset = 0; ; offset += limit) {
    const page = await service.exec('evaluationImages', { runId, evaluationId: e.id, label, predicted, offset, limit });
    totals.add(page.total);
    images.push(...page.images);
    if (page.images.length < limit) return { images, totals: [...totals], imageSplit: page.imageSplit };
  }
}

const refusal = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as ServiceError);

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path, { workers: { ...workerFactories, evaluation: () => (evaluationWorkers++, workerFactories.evaluation()) } });
  const d = service.datasets.find(SAMPLE_DATASET_NAME);
  sampleId = d.id;
  sample = readCache(service.datasets.row(d.id).cacheFile);
  const run = service.runs.start({ datasetId: d.id, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 3 } });
  await service.runs.waitFor(run.id);
  runId = run.id;
  epochSnapshots = service.runs.detail(runId, false).snapshots.filter((s) => s.kind === 'epoch');
}, 180_000);

afterAll(async () => {
  await service?.close();
  dir?.remove();
});

describe('evaluationImages: a confusion cell, paged through all of it', () => {
  let e: EvaluationInfo;
  beforeAll(async () => {
    e = await service.exec('evaluateRun', { runId, split: 'test' });
  }, 120_000);

  it('the largest off-diagonal cell of 1000 test images: every image, once, is that pair by the cache\'s label and the engine\'s prediction, with the engine\'s top-3', async () => {
    let [label, predicted] = [0, 1];
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (i !== j && e.confusion[i]![j]! > e.confusion[label]![predicted]!) [label, predicted] = [i, j];
    const count = e.confusion[label]![predicted]!;
    expect(count).toBeGreaterThan(7); // more than one page of 7: the paging is exercised
    const cell = await wholeCell(e, label, predicted, 7);
    expect(cell.totals).toEqual([count]);
    expect(cell.imageSplit).toBe('test');
    expect(cell.images).toHaveLength(count);
    expect(new Set(cell.images.map((m) => m.index)).size).toBe(count);
    const indices = cell.images.map((m) => m.index);
    const all = engineTestProbabilities(e.snapshotId);
    const names = service.datasets.find(sampleId).classNames;
    cell.images.forEach((m) => {
      expect([m.label, m.predicted]).toEqual([label, predicted]);
      expect(sample.test!.labels[m.index]).toBe(label);
      const row = Array.from(all.subarray(m.index * 10, (m.index + 1) * 10));
      const ranked = row.map((p, c) => ({ c, p })).sort((a, b) => b.p - a.p).slice(0, 3);
      expect(m.top.map((t) => t.classIndex)).toEqual(ranked.map((r) => r.c));
      expect(m.top[0]!.classIndex).toBe(predicted);
      m.top.forEach((t, s) => expect(t.probability).toBe(ranked[s]!.p));
      expect(m.top.map((t) => t.className)).toEqual(ranked.map((r) => names[r.c]));
    });
    // and no image outside the cell was left out: the cell's indices are exactly the test images of that label the engine predicts as that class
    const expected: number[] = [];
    for (let i = 0; i < sample.test!.n; i++) {
      const row = all.subarray(i * 10, (i + 1) * 10);
      if (sample.test!.labels[i] === label && row.indexOf(Math.max(...row)) === predicted) expected.push(i);
    }
    expect(indices).toEqual(expected);
  });

  it('a diagonal cell: the right answers of that class, as many as the matrix says', async () => {
    const label = e.confusion.findIndex((row, i) => row[i]! > 30);
    const cell = await wholeCell(e, label, label, 24);
    expect(cell.images).toHaveLength(e.confusion[label]![label]!);
    for (const m of cell.images) {
      expect(sample.test!.labels[m.index]).toBe(label);
      expect(m.top[0]!.classIndex).toBe(label);
    }
  });

  it('an offset past the end gives no images and the total; refusals name the field', async () => {
    const page = await service.exec('evaluationImages', { runId, evaluationId: e.id, label: 0, predicted: 0, offset: 100_000, limit: 24 });
    expect(page.images).toEqual([]);
    expect(page.total).toBe(e.confusion[0]![0]);
    const badClass = await refusal(service.exec('evaluationImages', { runId, evaluationId: e.id, label: 10, predicted: 0, offset: 0, limit: 24 }));
    expect([badClass.code, badClass.detail?.field, badClass.message]).toEqual(['bad_request', 'label', 'label 10 is not a class of this evaluation (0 to 9)']);
    const elsewhere = await refusal(service.exec('evaluationImages', { runId: runId + 1, evaluationId: e.id, label: 0, predicted: 0, offset: 0, limit: 24 }));
    expect(elsewhere.code).toBe('not_found');
    const tooMany = await service.call('evaluationImages', { runId, evaluationId: e.id, label: 0, predicted: 0, offset: 0, limit: 201 });
    expect(tooMany.ok ? null : tooMany.error.detail).toEqual({ field: 'limit' });
  });

  it('an evaluation stored before the top-3 were kept says to evaluate again', async () => {
    service.store.db.prepare('UPDATE evaluations SET top_predictions = NULL WHERE id = ?').run(e.id);
    try {
      const old = await refusal(service.exec('evaluationImages', { runId, evaluationId: e.id, label: 0, predicted: 0, offset: 0, limit: 24 }));
      expect(old.code).toBe('not_found');
      expect(old.message).toBe(`evaluation ${e.id} was stored before each image's prediction was kept: evaluate run ${runId} again to page through a cell`);
    } finally {
      e = await service.exec('evaluateRun', { runId, split: 'test' });
    }
  });

  it('a validation evaluation\'s indices are the training images its seeded split held out', async () => {
    const v = await service.exec('evaluateRun', { runId, split: 'validation' });
    const held = new Set(seededSplit(sample.train.n, QUICK.validationSplit!, QUICK.seed!).validation);
    let seen = 0;
    for (let label = 0; label < 10; label++) for (let predicted = 0; predicted < 10; predicted++) {
      if (v.confusion[label]![predicted]! === 0) continue;
      const cell = await wholeCell(v, label, predicted, 200);
      expect(cell.imageSplit).toBe('train');
      expect(cell.images).toHaveLength(v.confusion[label]![predicted]!);
      for (const m of cell.images) {
        expect(held.has(m.index)).toBe(true);
        expect(sample.train.labels[m.index]).toBe(label);
      }
      seen += cell.images.length;
    }
    expect(seen).toBe(v.count);
  });
});

describe('evaluateRun with reuse: a snapshot evaluated once, then from the store', () => {
  it('epoch 1\'s snapshot: computed in one worker the first time, stored; asked again (twice at once, too) no worker and no new row', async () => {
    const first = epochSnapshots[0]!;
    const testAccuracy = service.runs.summary(runId).testAccuracy;
    const rows = countRows(service, 'evaluations');
    const workers = evaluationWorkers;
    const [a, b] = await Promise.all([
      service.exec('evaluateRun', { runId, snapshotId: first.id, reuse: true }),
      service.exec('evaluateRun', { runId, snapshotId: first.id, reuse: true }),
    ]);
    expect(evaluationWorkers - workers).toBe(1);
    expect(countRows(service, 'evaluations')).toBe(rows + 1);
    expect(b).toEqual(a);
    expect([a.snapshotId, a.split]).toEqual([first.id, 'test']);
    const again = await service.exec('evaluateRun', { runId, snapshotId: first.id, reuse: true });
    expect(again).toEqual(a);
    expect(evaluationWorkers - workers).toBe(1);
    expect(countRows(service, 'evaluations')).toBe(rows + 1);
    // an older snapshot's score is not the run's test accuracy (that is its latest snapshot's)
    expect(service.runs.summary(runId).testAccuracy).toBe(testAccuracy);
    // its cells page like any evaluation's
    const page = await service.exec('evaluationImages', { runId, evaluationId: a.id, label: 0, predicted: 0, offset: 0, limit: 24 });
    expect(page.total).toBe(a.confusion[0]![0]);
  });

  it('each epoch has its own scores; without reuse an evaluation is computed again', async () => {
    const [one, two] = await Promise.all(epochSnapshots.slice(0, 2).map((s) => service.exec('evaluateRun', { runId, snapshotId: s.id, reuse: true })));
    expect(one!.snapshotId).not.toBe(two!.snapshotId);
    expect(one!.confusion).not.toEqual(two!.confusion);
    const workers = evaluationWorkers;
    const fresh = await service.exec('evaluateRun', { runId, snapshotId: epochSnapshots[0]!.id });
    expect(evaluationWorkers - workers).toBe(1);
    expect(fresh.id).not.toBe(one!.id);
    expect(fresh.confusion).toEqual(one!.confusion);
  });
});
