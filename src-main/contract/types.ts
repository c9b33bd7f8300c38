/**
 * The data of the contract: what commands answer and events carry. Everything here is plain JSON
 * (no Uint8Array, no Date) so every transport carries it unchanged; bytes travel as base64 strings.
 * The requests are in commands.ts, as schemas.
 */
import type { ModelSpec } from '../../src-engine/spec.js';
import type { ShapeReport } from '../../src-engine/shapes.js';
import type { BatchEvent, EpochMetrics } from '../../src-engine/train.js';
import type { ImportedDataset } from '../datasets/types.js';
import type { Hyperparameters } from './hyperparameters.js';

export type { ModelSpec, ShapeReport };

// ---------------------------------------------------------------------------------------------
// Results and errors

export type ErrorCode =
  | 'bad_request' // the request itself is malformed (unknown command, missing field)
  | 'invalid_spec' // the ModelSpec does not fit the dataset (the engine's message)
  | 'invalid_hyperparameters' // a hyperparameter is out of range
  | 'import_failed' // a dataset import failed (message names the file and the problem)
  | 'cancelled' // the caller cancelled a long operation
  | 'not_found' // no dataset / run / snapshot with that id
  | 'conflict' // the object is in a state that does not allow it (e.g. pausing a completed run)
  | 'in_use' // a dataset that runs still use
  | 'busy' // too much of that work is running or waiting already (the message says the numbers)
  | 'storage' // the library could not be read or written: disk full, damaged file (the message says what to do)
  | 'unauthorized' // web transport: missing or wrong token
  | 'internal'; // a bug or an unexpected failure

export interface ServiceErrorData {
  code: ErrorCode;
  message: string;
  /** Extra detail: the file an import failed on, the layer a spec failed at, the field that is out of range. */
  detail?: { file?: string; layerIndex?: number | null; field?: string; importCode?: string; limit?: { name: string; actual: number; limit: number } };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceErrorData };

// ---------------------------------------------------------------------------------------------
// Datasets

export type { DatasetFormat, LintReport } from '../datasets/types.js';

/** What the library knows of a dataset: its import result (minus where the cache lives) + library fields. */
export type DatasetInfo = Omit<ImportedDataset, 'cacheFile' | 'reused' | 'innerFormat' | 'cacheBytes'> & {
  id: number;
  createdAt: string;
  /** Runs that use this dataset. */
  runCount: number;
};

export interface ImportDatasetResponse {
  dataset: DatasetInfo;
  /** True when the same content was already imported: nothing new was stored. */
  alreadyImported: boolean;
}

export interface Thumbnail {
  index: number;
  label: number;
  className: string;
  width: number;
  height: number;
  channels: number;
  format: 'png' | 'raw';
  base64: string;
}

// ---------------------------------------------------------------------------------------------
// Runs

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunSummary {
  id: number;
  name: string;
  datasetId: number;
  datasetName: string;
  status: RunStatus;
  specHash: string;
  totalParams: number;
  hyperparameters: Hyperparameters;
  kernelsUsed: string | null;
  engineVersion: string;
  parentRunId: number | null;
  parentSnapshotId: number | null;
  notes: string;
  tags: string[];
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Seconds spent training (sum over resumptions). */
  trainSeconds: number;
  epochsDone: number;
  bestEpoch: number | null;
  lastValAccuracy: number | null;
  lastTrainLoss: number | null;
  testAccuracy: number | null;
  stopReason: string | null;
}

/** An epoch's metrics as stored: the engine's EpochMetrics, counted from 1, with the run's step and clock. */
export type EpochMetricsRow = Omit<EpochMetrics, 'epoch' | 'improved'> & {
  /** 1-based, as users count epochs (the engine's EpochMetrics.epoch is 0-based). */
  epoch: number;
  step: number;
  /** Wall-clock time since the run started training (s). */
  wallTime: number;
};

export interface BatchMetricsRow {
  epoch: number;
  batch: number;
  step: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  wallTime: number;
}

export interface SnapshotInfo {
  id: number;
  runId: number;
  epoch: number;
  step: number;
  kind: 'epoch' | 'pause' | 'stop';
  isBest: boolean;
  bytes: number;
  createdAt: string;
}

export interface RunDetail extends RunSummary {
  spec: ModelSpec;
  epochs: EpochMetricsRow[];
  batches: BatchMetricsRow[];
  snapshots: SnapshotInfo[];
  evaluations: EvaluationInfo[];
  /** Ancestors, nearest first: [{runId, snapshotId, epoch}]. */
  lineage: { runId: number; snapshotId: number | null; epoch: number | null }[];
  children: number[];
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export interface ClassMetrics {
  className: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Misclassified {
  index: number;
  label: number;
  predicted: number;
  /** The predicted probability of every class. */
  probabilities: number[];
}

export interface EvaluationInfo {
  id: number;
  runId: number;
  datasetId: number;
  snapshotId: number;
  split: 'test' | 'validation' | 'train';
  accuracy: number;
  loss: number;
  count: number;
  perClass: ClassMetrics[];
  /** confusion[label][predicted] counts. */
  confusion: number[][];
  misclassified: Misclassified[];
  createdAt: string;
}

// ---------------------------------------------------------------------------------------------
// Compare

export interface CompareResponse {
  runs: { id: number; name: string; status: RunStatus; specHash: string; datasetId: number }[];
  /** epochs[i] = i + 1; series[runId][metric][i] (null where a run has no such epoch). */
  epochs: number[];
  series: Record<string, Record<'trainLoss' | 'trainAccuracy' | 'valLoss' | 'valAccuracy' | 'learningRate', (number | null)[]>>;
  /** Hyperparameters whose values differ: path → value per run (in `runs` order). */
  hyperparameterDiffs: { path: string; values: unknown[] }[];
  /** Layer-by-layer architecture comparison: a row per layer index, the label/shape per run, null if absent. */
  architectureDiffs: { layer: number; values: (string | null)[] }[];
  sameArchitecture: boolean;
  /** Per-class F1/precision/recall from each run's latest evaluation (null if not evaluated). */
  perClass: { className: string; f1: (number | null)[]; precision: (number | null)[]; recall: (number | null)[] }[];
  testAccuracy: (number | null)[];
}

// ---------------------------------------------------------------------------------------------
// Export

export interface ExportRunResponse {
  /** The file(s) of the export, in base64: the caller writes them (the CLI to --out, the desktop app
   *  to where its save dialog says, a browser as downloads); a request never names a path. */
  files: { name: string; bytes: number; base64: string }[];
}

// ---------------------------------------------------------------------------------------------
// Events

/** A batch's progress as the engine reports it (BatchEvent), with epoch and batch counted from 1. */
export type RunBatchEvent = Omit<BatchEvent, 'epochEnd'> & {
  runId: number;
  kind: 'batch';
};

export interface RunEpochEvent extends EpochMetricsRow {
  runId: number;
  kind: 'epoch';
  epochs: number;
  improved: boolean;
  snapshotId: number;
}

export interface RunStatusEvent {
  runId: number;
  status: RunStatus;
  previous: RunStatus | null;
  error: string | null;
  stopReason: string | null;
  kernelsUsed: string | null;
}

export interface ImportProgressEvent {
  importId: string;
  phase: string;
  done: number;
  total: number;
  message?: string;
}

export interface Events {
  runProgress: RunBatchEvent | RunEpochEvent;
  runStatus: RunStatusEvent;
  importProgress: ImportProgressEvent;
}

export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['runProgress', 'runStatus', 'importProgress'];
