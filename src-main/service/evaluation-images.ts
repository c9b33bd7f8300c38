/**
 * One confusion cell's images, a page at a time: from an evaluation's stored per-image predictions
 * (and top-3), the images whose true class is `label` and predicted class `predicted` — all of them,
 * not the first few the evaluation keeps as examples. The diagonal cells are the right answers.
 */
import type { EvaluationImagesRequest, EvaluationImagesResponse, EvaluationInfo } from '../contract/index.js';
import { seededSplit } from '../datasets/index.js';
import type { RunRow, Store } from '../db/store.js';
import { topOf } from '../db/top-predictions.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';

export function evaluationImages(store: Store, runs: RunManager, datasets: DatasetLibrary, req: EvaluationImagesRequest): EvaluationImagesResponse {
  const run = runs.row(req.runId);
  const e = store.getEvaluation(req.evaluationId);
  if (!e || e.runId !== run.id) throw new ServiceError('not_found', `run ${run.id} has no evaluation ${req.evaluationId}`);
  const k = e.confusion.length;
  for (const field of ['label', 'predicted'] as const) {
    if (req[field] >= k) throw new ServiceError('bad_request', `${field} ${req[field]} is not a class of this evaluation (0 to ${k - 1})`, { field });
  }
  const predictions = store.predictions(e.id);
  const top = store.topPredictions(e.id);
  if (!predictions || !top) {
    throw new ServiceError('not_found', `evaluation ${e.id} was stored before each image's prediction was kept: evaluate run ${run.id} again to page through a cell`);
  }
  const d = datasets.row(e.datasetId); // tensors() refuses a missing or damaged cache
  const t = datasets.tensors(d);
  const { imageSplit, order } = evaluatedOrder(run, e, d.trainCount);
  const labels = imageSplit === 'test' ? t.test!.labels : t.train.labels;
  const images: EvaluationImagesResponse['images'] = [];
  let total = 0;
  for (let i = 0; i < e.count; i++) {
    if (predictions[i] !== req.predicted) continue;
    const index = order ? order[i]! : i;
    if (labels[index] !== req.label) continue;
    if (total >= req.offset && images.length < req.limit) {
      images.push({
        index, label: req.label, predicted: req.predicted,
        top: topOf(top, e.count, i).map((p) => ({ ...p, className: d.classNames[p.classIndex] ?? String(p.classIndex) })),
      });
    }
    total++;
  }
  return { evaluationId: e.id, datasetId: d.id, imageSplit, label: req.label, predicted: req.predicted, total, offset: req.offset, images };
}

/** Evaluated set order → index into the cache's split, as the evaluation worker's loadSplit picked
 *  them: validation and train are seeded picks of the training images (null: the identity). */
function evaluatedOrder(run: RunRow, e: EvaluationInfo, trainCount: number): { imageSplit: 'train' | 'test'; order: Uint32Array | null } {
  if (e.split === 'test') return { imageSplit: 'test', order: null };
  // on another dataset than its own, a run's evaluation holds out nothing (evaluations.ts)
  const fraction = e.datasetId === run.datasetId ? run.hyperparameters.validationSplit : 0;
  const split = seededSplit(trainCount, fraction, run.hyperparameters.seed);
  return { imageSplit: 'train', order: e.split === 'validation' ? split.validation : split.train };
}
