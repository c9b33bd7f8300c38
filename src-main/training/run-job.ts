/**
 * What a worker does with a job, written against a `post` function so the worker entry stays a
 * few lines (and an electron-vite `?nodeWorker` bundle can reuse it).
 */
import { buildModel, readTrainerState, resolveKernels, Trainer, TrainingError, type Dataset, type Kernels, type Model } from '../../src-engine/index.js';
import { measureHealth, type LayerHealth } from '../../src-engine/inspect/index.js';
import type { StepView } from '../../src-engine/train.js';
import type { DataParallelGradients } from '../../src-engine/parallel/data-parallel.js';
import { nodeHandle, startDataParallel } from '../../src-engine/parallel/node.js';
import type { ReplicaInit } from '../../src-engine/parallel/shared.js';
import type { Worker } from 'node:worker_threads';
import { readCache, seededSplit } from '../datasets/index.js';
import { newTopPredictions, setTop, TOP_K } from '../db/top-predictions.js';
import { CONTROL_PAUSE, CONTROL_STOP, type DataSelection, type EvaluateJob, type TrainJob, type WorkerJob, type WorkerMessage } from './protocol.js';

export type Post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;
/** Starts a gradient replica thread (src-main/worker-factories: tsx from source, a chunk when bundled). */
export type StartReplica = (init: ReplicaInit) => Worker;

const nowSeconds = () => performance.now() / 1000;

/** Copies the images and labels at `indices` (into the split) into new arrays. */
function subset(images: Uint8Array, labels: Uint8Array, imageSize: number, indices: ArrayLike<number>): Dataset & { images: Uint8Array; labels: Uint8Array } {
  const n = indices.length;
  const outImages = new Uint8Array(n * imageSize);
  const outLabels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    outImages.set(images.subarray(j * imageSize, (j + 1) * imageSize), i * imageSize);
    outLabels[i] = labels[j]!;
  }
  return { images: outImages, labels: outLabels, n };
}

export interface SplitData {
  shape: [number, number, number];
  train: Dataset;
  validation: Dataset | null;
  test: Dataset | null;
  /** Index of each train/validation image in the cache's training split (thumbnails use these). */
  trainIndices: Uint32Array;
  validationIndices: Uint32Array;
}

/** The run's view of a dataset: its seeded train/validation split, optionally truncated. */
export function loadSplit(sel: DataSelection): SplitData {
  const cache = readCache(sel.cacheFile);
  const size = cache.shape[0] * cache.shape[1] * cache.shape[2];
  const split = seededSplit(cache.train.n, sel.validationSplit, sel.splitSeed);
  const trainIndices = sel.trainLimit !== null && sel.trainLimit < split.train.length ? split.train.subarray(0, sel.trainLimit) : split.train;
  return {
    shape: cache.shape,
    train: subset(cache.train.images, cache.train.labels, size, trainIndices),
    validation: split.validation.length > 0 ? subset(cache.train.images, cache.train.labels, size, split.validation) : null,
    test: cache.test && cache.test.n > 0 ? cache.test : null,
    trainIndices,
    validationIndices: split.validation,
  };
}

export async function runJob(job: WorkerJob, post: Post, startReplica: StartReplica): Promise<void> {
  try {
    if (job.type === 'train') await train(job, post, startReplica);
    else await evaluate(job, post);
  } catch (e) {
    const code = e instanceof TrainingError ? e.code : (e as Error)?.name ?? 'error';
    const nonFinite = e instanceof TrainingError ? e.nonFinite : undefined;
    post({ type: 'failed', code, message: (e as Error)?.message ?? String(e), ...(nonFinite ? { nonFinite } : {}) });
  }
}

async function train(job: TrainJob, post: Post, startReplica: StartReplica): Promise<void> {
  const started = nowSeconds();
  const kernels = resolveKernels(job.kernels);
  const data = loadSplit(job.data);
  const validation = data.validation ?? undefined;
  // Every run computes its gradients in shards, whatever its thread count, so the weights do not
  // depend on it; threads − 1 replicas start here and stop with the run.
  const spec = job.state ? readTrainerState(job.state).spec : job.spec;
  const gradients = await startDataParallel(spec, {
    threads: job.threads, maxBatch: job.config.batchSize, kernels: job.kernels, spawn: (init) => nodeHandle(startReplica(init)),
  });
  try {
    await trainWith(job, post, kernels, data, validation, gradients, started);
  } finally {
    await gradients.close();
  }
}

async function trainWith(job: TrainJob, post: Post, kernels: Kernels, data: SplitData, validation: Dataset | undefined,
  gradients: DataParallelGradients, started: number): Promise<void> {
  const wall = () => job.wallTimeOffset + (nowSeconds() - started);
  // Training health after every healthEvery-th step: one inference-mode forward of that batch, kept
  // for the step's batch message (the trainer calls this before it returns the step).
  let health: LayerHealth[] | undefined;
  const afterStep = job.healthEvery > 0
    ? (s: StepView) => { if (s.event.step % job.healthEvery === 0) health = measureHealth(trainer.model, s.x, s.n, s.before); }
    : undefined;
  let trainer: Trainer;
  if (job.state) {
    trainer = Trainer.restore(job.state, data.train, validation, { kernels, gradients, afterStep });
  } else {
    const model: Model = buildModel(job.spec, { seed: job.seed, kernels });
    if (job.initialWeights) {
      if (job.initialWeights.length !== model.values.length) {
        throw new TrainingError('bad_state', `fork: the snapshot has ${job.initialWeights.length} weights, the spec needs ${model.values.length}`);
      }
      model.values.set(job.initialWeights);
    }
    trainer = new Trainer(model, data.train, job.config, validation, { gradients, afterStep });
  }
  post({
    // the set the gradients are really computed with (the same resolution as the model's)
    type: 'started', kernels: gradients.kernels.name, trainCount: data.train.n, validationCount: validation?.n ?? 0,
    batchesPerEpoch: trainer.batchesPerEpoch, epoch: trainer.epoch, step: trainer.stepCount, monitor: trainer.monitor(),
  });
  const control = new Int32Array(job.control);
  const every = Math.max(1, job.progressEvery);
  const rate = new ImageRate();
  // A snapshot within an epoch once this much training time passed since the last one (epoch ends count).
  const snapshotSeconds = job.snapshotMinutes > 0 ? job.snapshotMinutes * 60 : Infinity;
  let lastSnapshot = nowSeconds();
  while (!trainer.done) {
    const request = Atomics.load(control, 0);
    if (request === CONTROL_PAUSE || request === CONTROL_STOP) {
      const state = trainer.saveState();
      post({ type: 'ended', reason: request === CONTROL_PAUSE ? 'paused' : 'stopped', epoch: trainer.epoch, batch: trainer.batch, step: trainer.stepCount, wallTime: wall(), state }, [state.buffer as ArrayBuffer]);
      return;
    }
    const imagesBefore = trainer.batch * job.config.batchSize;
    const e = trainer.step()!;
    const { epochEnd, ...event } = e;
    rate.add(Math.min(job.config.batchSize, data.train.n - imagesBefore));
    if (health) {
      post({ type: 'batch', event, wallTime: wall(), imagesPerSecond: rate.perSecond(), health });
      health = undefined;
    } else if (e.step % every === 0 || epochEnd) post({ type: 'batch', event, wallTime: wall(), imagesPerSecond: rate.perSecond() });
    if (epochEnd) {
      const state = trainer.saveState();
      post({
        type: 'epoch', metrics: epochEnd, step: trainer.stepCount, bestEpoch: trainer.bestEpoch, wallTime: wall(), state,
        done: trainer.done, stopReason: trainer.stopReason,
      }, [state.buffer as ArrayBuffer]);
      lastSnapshot = nowSeconds();
    } else if (nowSeconds() - lastSnapshot >= snapshotSeconds) {
      const state = trainer.saveState();
      post({ type: 'snapshot', epoch: trainer.epoch, batch: trainer.batch, step: trainer.stepCount, wallTime: wall(), state }, [state.buffer as ArrayBuffer]);
      lastSnapshot = nowSeconds();
    }
  }
  const reason = trainer.stopReason === 'early-stopped' ? 'early-stopped' : 'completed';
  post({ type: 'ended', reason, epoch: trainer.epoch, batch: 0, step: trainer.stepCount, wallTime: wall(), state: null });
}

/** Images per second over the last few seconds of batches (validation at an epoch's end included as it happens). */
class ImageRate {
  private readonly marks: { at: number; images: number }[] = [{ at: nowSeconds(), images: 0 }];
  private images = 0;

  add(images: number): void {
    this.images += images;
    const at = nowSeconds();
    this.marks.push({ at, images: this.images });
    while (this.marks.length > 2 && at - this.marks[1]!.at > 5) this.marks.shift();
  }

  perSecond(): number | null {
    const first = this.marks[0]!;
    const last = this.marks[this.marks.length - 1]!;
    return last.at > first.at ? (last.images - first.images) / (last.at - first.at) : null;
  }
}

async function evaluate(job: EvaluateJob, post: Post): Promise<void> {
  const kernels = resolveKernels(job.kernels);
  const { spec, weights } = readTrainerState(job.state);
  const model = buildModel(spec, { kernels });
  model.values.set(weights);
  const data = loadSplit({ ...job.data, trainLimit: null });
  let set: Dataset | null;
  let indexMap: Uint32Array | null = null;
  if (job.split === 'test') set = data.test;
  else if (job.split === 'validation') {
    set = data.validation;
    indexMap = data.validationIndices;
  } else {
    set = data.train;
    indexMap = data.trainIndices;
  }
  if (!set || set.n === 0) throw new Error(`the dataset has no ${job.split} images to evaluate on`);
  const k = model.classes;
  const size = model.inputSize;
  if (size !== set.images.length / set.n) throw new Error(`the model takes ${size} values per image, the dataset has ${set.images.length / set.n}`);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const misclassified: EvaluateResultMisclassified[] = [];
  const predictions = new Uint8Array(set.n);
  const top = newTopPredictions(set.n, Math.min(TOP_K, k));
  let lossSum = 0;
  let correct = 0;
  const chunk = 256;
  const x = new Float32Array(chunk * size);
  for (let start = 0; start < set.n; start += chunk) {
    const m = Math.min(chunk, set.n - start);
    const src = set.images as Uint8Array;
    for (let i = 0; i < m * size; i++) x[i] = src[start * size + i]! / 255;
    // the loss as validation computes it (log-sum-exp of the logits), not from rounded probabilities
    const labels = Array.prototype.slice.call(set.labels, start, start + m) as number[];
    const r = model.classify(x.subarray(0, m * size), labels, m, chunk);
    lossSum += r.lossSum;
    correct += r.correct;
    const probs = r.probabilities;
    for (let i = 0; i < m; i++) {
      const label = labels[i]!;
      const predicted = r.predicted[i]!;
      predictions[start + i] = predicted;
      setTop(top, set.n, start + i, probs.subarray(i * k, (i + 1) * k));
      confusion[label]![predicted]!++;
      if (predicted !== label && misclassified.length < job.maxMisclassified) {
        const index = indexMap ? indexMap[start + i]! : start + i;
        misclassified.push({ index, label, predicted, probabilities: Array.from(probs.subarray(i * k, (i + 1) * k), (p) => Math.round(p * 1e5) / 1e5) });
      }
    }
  }
  const perClass = confusion.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, r) => a + r[c]!, 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { className: job.classNames[c] ?? String(c), precision, recall, f1, support };
  });
  post({ type: 'evaluated', accuracy: correct / set.n, loss: lossSum / set.n, count: set.n, perClass, confusion, misclassified, predictions, top }, [predictions.buffer, top.buffer]);
}

type EvaluateResultMisclassified = { index: number; label: number; predicted: number; probabilities: number[] };
