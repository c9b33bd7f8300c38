/**
 * Messages between the service (main thread) and a training/evaluation worker. Only the ModelSpec,
 * the config and trainer-state bytes cross; the worker reads the dataset cache file itself.
 */
import type { ClassMetrics, EarlyStoppingMonitor, KernelChoice, Misclassified, ModelSpec } from '../contract/index.js';
import type { BatchEvent, EpochMetrics, StopReason, TrainConfig } from '../../src-engine/train.js';
import type { LayerHealth, NonFiniteStep } from '../../src-engine/inspect/index.js';

/** Int32 slot 0 of the control buffer: what the main thread asks of a running worker. */
export const CONTROL_RUN = 0;
export const CONTROL_PAUSE = 1;
export const CONTROL_STOP = 2;

export interface DataSelection {
  cacheFile: string;
  validationSplit: number;
  splitSeed: number;
  /** Keep only the first N training images of the split; null = all. */
  trainLimit: number | null;
}

export interface TrainJob {
  type: 'train';
  runId: number;
  data: DataSelection;
  spec: ModelSpec;
  config: TrainConfig;
  /** Seeds the weight init of a fresh model. */
  seed: number;
  kernels: KernelChoice;
  /** Gradient threads (the worker itself + threads − 1 replicas). */
  threads: number;
  progressEvery: number;
  /** Snapshot within an epoch after this many minutes since the last snapshot; 0 = never. */
  snapshotMinutes: number;
  /** Measure training health every N steps (the trainer's count); 0 = never. */
  healthEvery: number;
  /** Continue exactly from this trainer state (resume). */
  state?: Uint8Array;
  /** Start a fresh trainer from these weights (fork). */
  initialWeights?: Float32Array;
  /** Wall-clock seconds already spent on this run (resumes add to it). */
  wallTimeOffset: number;
  /** Int32Array over it: slot 0 is CONTROL_*; the worker reads it between batches. */
  control: SharedArrayBuffer;
}

export interface EvaluateJob {
  type: 'evaluate';
  data: DataSelection;
  split: 'test' | 'validation' | 'train';
  state: Uint8Array;
  kernels: KernelChoice;
  classNames: string[];
  maxMisclassified: number;
}

export type WorkerJob = TrainJob | EvaluateJob;

export type WorkerMessage =
  | { type: 'started'; kernels: string; trainCount: number; validationCount: number; batchesPerEpoch: number; epoch: number; step: number; monitor: EarlyStoppingMonitor }
  /** `health`: measured after this step (every healthEvery steps; such a step is always reported). */
  | { type: 'batch'; event: Omit<BatchEvent, 'epochEnd'>; wallTime: number; imagesPerSecond: number | null; health?: LayerHealth[] }
  /** Within an epoch: the state before batch `batch` of epoch `epoch` (both 0-based as the trainer counts). */
  | { type: 'snapshot'; epoch: number; batch: number; step: number; wallTime: number; state: Uint8Array }
  | { type: 'epoch'; metrics: EpochMetrics; step: number; bestEpoch: number; wallTime: number; state: Uint8Array; done: boolean; stopReason: StopReason | null }
  | { type: 'ended'; reason: 'completed' | 'early-stopped' | 'paused' | 'stopped'; epoch: number; batch: number; step: number; wallTime: number; state: Uint8Array | null }
  /** `nonFinite`: the loss went NaN/∞ — at which step (the trainer's numbering) and the first layer that did. */
  | { type: 'failed'; code: string; message: string; nonFinite?: NonFiniteStep }
  | { type: 'evaluated'; accuracy: number; loss: number; count: number; perClass: ClassMetrics[]; confusion: number[][]; misclassified: Misclassified[];
      /** The predicted class of every evaluated image, in the evaluated set's order. */
      predictions: Uint8Array;
      /** Every evaluated image's likeliest classes and probabilities, as db/top-predictions.ts lays them out. */
      top: Uint8Array };
