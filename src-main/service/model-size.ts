/**
 * How big a model may be, checked from its spec before anything is allocated: its parameters, the
 * activations one batch needs, and the bytes of its snapshots. The first two are library settings
 * a user can raise deliberately (`cnn-studio limits`); the snapshot bound is SQLite's and is not.
 */
import type { ShapeReport } from '../../src-engine/index.js';
import type { Hyperparameters, ModelSpec } from '../contract/index.js';
import type { Store } from '../db/store.js';

export interface ModelLimits {
  /** Trainable parameters of one model. */
  maxParameters: number;
  /** Estimated activation bytes of one batch (see activationBytes). */
  maxActivationBytes: number;
}

export const DEFAULT_MODEL_LIMITS: ModelLimits = {
  // 40 MB of float32 weights; the trainer, its optimizer, gradient replicas and snapshots hold about
  // twenty copies, so training stays under a gigabyte of memory.
  maxParameters: 10_000_000,
  maxActivationBytes: 1_000_000_000,
};

/** SQLite's largest value (SQLITE_MAX_LENGTH): a snapshot above it could never be stored. */
export const SNAPSHOT_BYTES_LIMIT = 1_000_000_000;

/** Images the evaluation worker classifies at a time (training/run-job.ts `evaluate`); validation goes by batch. */
export const EVALUATION_CHUNK = 256;

const SETTING_KEYS: Record<keyof ModelLimits, string> = {
  maxParameters: 'limit.max_parameters',
  maxActivationBytes: 'limit.max_activation_bytes',
};

/** The library's limits: its settings where set, the defaults elsewhere. */
export function modelLimits(store: Store): ModelLimits {
  const out = { ...DEFAULT_MODEL_LIMITS };
  for (const key of Object.keys(SETTING_KEYS) as (keyof ModelLimits)[]) {
    const v = Number(store.getMeta(SETTING_KEYS[key]));
    if (Number.isSafeInteger(v) && v > 0) out[key] = v;
  }
  return out;
}

/** Sets (a positive integer) or resets (null) limits in the library; every process reads them at each check. */
export function setModelLimits(store: Store, changes: { [K in keyof ModelLimits]?: number | null }): ModelLimits {
  for (const [key, value] of Object.entries(changes) as [keyof ModelLimits, number | null | undefined][]) {
    if (value === undefined) continue;
    if (value !== null && !(Number.isSafeInteger(value) && value > 0)) throw new Error(`${key} must be a positive integer, got ${value}`);
    store.setMeta(SETTING_KEYS[key], value === null ? '' : String(value));
  }
  return modelLimits(store);
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
/** Decimal megabytes/gigabytes, as disks and the limits flag count them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toLocaleString('en-US', { maximumFractionDigits: 1 })} GB`;
  return `${(bytes / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;
}

/** Values one image keeps alive in a forward pass: the input and every layer's output (float32). */
function valuesPerImage(spec: ModelSpec, report: ShapeReport): number {
  const [h, w, c] = spec.inputShape;
  return report.layers.reduce((sum, l) => sum + l.outputShape[0] * l.outputShape[1] * l.outputShape[2], h * w * c);
}

/** Activation bytes of one step: training batches and evaluation chunks, whichever is larger. */
export function activationBytes(spec: ModelSpec, report: ShapeReport, batchSize: number): number {
  return 4 * valuesPerImage(spec, report) * Math.max(batchSize, EVALUATION_CHUNK);
}

/**
 * Bytes of one trainer-state snapshot (src-engine/trainer-state.ts): weights, best weights and
 * previous weights, the optimizer's moment buffers (SGD momentum: 1, Adam and AdamW: 2), the shuffle order
 * (one uint32 per training image) and a JSON header whose history grows by an entry per epoch.
 */
export function snapshotBytes(totalParams: number, h: Hyperparameters, trainCount: number): number {
  const moments = h.optimizer.type === 'sgd' ? (h.optimizer.momentum ? 1 : 0) : 2; // Adam and AdamW keep two
  return 4 * totalParams * (3 + moments) + 4 * trainCount + 64 * 1024 + 400 * h.epochs;
}

export interface SizeProblem {
  message: string;
  layerIndex: number | null;
}

/** The first way the model is too big for these limits, or null. */
export function modelSizeProblem(spec: ModelSpec, report: ShapeReport, h: Hyperparameters, trainCount: number, limits: ModelLimits): SizeProblem | null {
  const biggest = report.layers.reduce((a, l) => (l.params > a.params ? l : a), report.layers[0]!);
  if (report.totalParams > limits.maxParameters) {
    return {
      message: `the model has ${count(report.totalParams)} parameters (${biggest.label}: ${count(biggest.params)}); the limit is ` +
        `${count(limits.maxParameters)}. Make it smaller, or raise the limit on purpose: cnn-studio limits --max-parameters ${report.totalParams}`,
      layerIndex: biggest.index,
    };
  }
  const snapshot = snapshotBytes(report.totalParams, h, trainCount);
  if (snapshot > SNAPSHOT_BYTES_LIMIT) {
    return {
      message: `a snapshot of this model would take ${formatBytes(snapshot)} (${count(report.totalParams)} parameters with ${h.optimizer.type} ` +
        `state); SQLite stores at most ${formatBytes(SNAPSHOT_BYTES_LIMIT)} in one value, so it could never be saved. Make the model smaller`,
      layerIndex: biggest.index,
    };
  }
  const activations = activationBytes(spec, report, h.batchSize);
  if (activations > limits.maxActivationBytes) {
    const widest = report.layers.reduce((a, l) => (size(l.outputShape) > size(a.outputShape) ? l : a), report.layers[0]!);
    const images = Math.max(h.batchSize, EVALUATION_CHUNK);
    return {
      message: `${images} images at a time (batch size ${h.batchSize}; evaluation runs ${EVALUATION_CHUNK} at a time) need about ` +
        `${formatBytes(activations)} of activations (${widest.label} outputs ${widest.outputShape.join('×')} per image); the limit is ` +
        `${formatBytes(limits.maxActivationBytes)}. Make the layers smaller, or raise the limit on purpose: ` +
        `cnn-studio limits --max-activation-mb ${Math.ceil(activations / 1e6)}`,
      layerIndex: widest.index,
    };
  }
  return null;
}

const size = (s: [number, number, number]) => s[0] * s[1] * s[2];
