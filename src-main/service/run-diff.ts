/**
 * The semantic diff of two runs: their layer stacks aligned, the hyperparameters that differ, and —
 * from their latest evaluations on the same images — per-class metric deltas and every image one run
 * gets right and the other wrong.
 */
import { REQUEST_LIMITS, type EvaluationInfo, type FlippedImage, type RunDiff } from '../contract/index.js';
import { seededSplit } from '../datasets/index.js';
import type { RunRow, Store } from '../db/store.js';
import { alignedRows } from './architecture-diff.js';
import { flatten, stackOf } from './compare.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';

const SPLIT_PREFERENCE = ['test', 'validation', 'train'] as const;

export function diffRuns(store: Store, runsOf: RunManager, datasets: DatasetLibrary, aId: number, bId: number): RunDiff {
  if (aId === bId) throw new ServiceError('bad_request', 'a diff needs two different runs', { field: 'b' });
  const a = runsOf.row(aId);
  const b = runsOf.row(bId);
  const fa = flatten({ ...a.hyperparameters, dataset: a.datasetName });
  const fb = flatten({ ...b.hyperparameters, dataset: b.datasetName });
  const hyperparameters = [...new Set([...fa.keys(), ...fb.keys()])].sort()
    .map((path) => ({ path, a: fa.get(path) ?? null, b: fb.get(path) ?? null }))
    .filter((d) => JSON.stringify(d.a) !== JSON.stringify(d.b));
  const { pair, note } = evaluationPair(store, a, b);
  return {
    a: { id: a.id, name: a.name },
    b: { id: b.id, name: b.name },
    layers: alignedRows([stackOf(a.spec), stackOf(b.spec)]),
    hyperparameters,
    evaluation: pair ? evaluationDiff(store, datasets, a, pair.a, pair.b) : null,
    evaluationNote: note,
  };
}

/** The newest pair of evaluations on the same images (same dataset, split, and for a split of the
 *  training images the same seeded split), both with their predictions; else why there is none. */
function evaluationPair(store: Store, a: RunRow, b: RunRow): { pair: { a: EvaluationInfo; b: EvaluationInfo } | null; note: string | null } {
  const ea = store.evaluations(a.id).reverse();
  const eb = store.evaluations(b.id).reverse();
  if (ea.length === 0 || eb.length === 0) {
    const missing = [ea.length === 0 ? a.id : null, eb.length === 0 ? b.id : null].filter((x) => x !== null).map((id) => `#${id}`).join(' and ');
    return { pair: null, note: `evaluate ${missing} (on the test split) to see per-class differences and the images that flipped` };
  }
  const sameImages = (x: EvaluationInfo, y: EvaluationInfo) => x.datasetId === y.datasetId && x.split === y.split && x.count === y.count &&
    (x.split === 'test' || (a.hyperparameters.validationSplit === b.hyperparameters.validationSplit && a.hyperparameters.seed === b.hyperparameters.seed));
  for (const split of SPLIT_PREFERENCE) {
    for (const x of ea.filter((e) => e.split === split)) {
      const y = eb.find((e) => sameImages(x, e));
      if (y && store.predictions(x.id) && store.predictions(y.id)) return { pair: { a: x, b: y }, note: null };
    }
  }
  return { pair: null, note: `#${a.id} and #${b.id} have no evaluations on the same images: evaluate both on the test split` };
}

function evaluationDiff(store: Store, datasets: DatasetLibrary, run: RunRow, x: EvaluationInfo, y: EvaluationInfo): NonNullable<RunDiff['evaluation']> {
  const d = datasets.row(x.datasetId); // tensors() refuses a missing or damaged cache
  const t = datasets.tensors(d);
  const pa = store.predictions(x.id)!;
  const pb = store.predictions(y.id)!;
  // Evaluated set order → index into the cache's split (validation and train are seeded picks of the training images).
  const imageSplit = x.split === 'test' ? 'test' : 'train';
  let indexOf: (i: number) => number = (i) => i;
  if (x.split !== 'test') {
    const split = seededSplit(d.trainCount, run.hyperparameters.validationSplit, run.hyperparameters.seed);
    const order = x.split === 'validation' ? split.validation : split.train;
    indexOf = (i) => order[i]!;
  }
  const labels = imageSplit === 'test' ? t.test!.labels : t.train.labels;
  const fixed: FlippedImage[] = [];
  const broken: FlippedImage[] = [];
  let fixedCount = 0;
  let brokenCount = 0;
  for (let i = 0; i < x.count; i++) {
    const index = indexOf(i);
    const label = labels[index]!;
    const rightA = pa[i] === label;
    const rightB = pb[i] === label;
    if (rightA === rightB) continue;
    const image = { index, label, predictedA: pa[i]!, predictedB: pb[i]! };
    if (rightB) {
      fixedCount++;
      if (fixed.length < REQUEST_LIMITS.flippedImages) fixed.push(image);
    } else {
      brokenCount++;
      if (broken.length < REQUEST_LIMITS.flippedImages) broken.push(image);
    }
  }
  return {
    datasetId: d.id, split: x.split, imageSplit, count: x.count,
    accuracy: { a: x.accuracy, b: y.accuracy },
    perClass: x.perClass.map((c, k) => ({ className: d.classNames[k] ?? c.className, a: c, b: y.perClass[k]!, f1Delta: y.perClass[k]!.f1 - c.f1 })),
    fixed, broken, fixedCount, brokenCount,
  };
}
