/**
 * The typed contract between the service and its transports (Electron IPC, HTTP + WebSocket, CLI)
 * and, later, the renderer (through `import type` only). Commands are request → response; events
 * are one-way streams. Errors travel as data: every command answers `Result<Response>`.
 *
 * Everything here is plain JSON (no Uint8Array, no Date) so every transport carries it unchanged;
 * bytes travel as base64 strings.
 */
import type { ModelSpec } from '../src-engine/spec.js';
import type { ShapeReport } from '../src-engine/shapes.js';
import type { BatchEvent, EpochMetrics } from '../src-engine/train.js';
import type { ImportedDataset } from './datasets/types.js';

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
  | 'unauthorized' // web transport: missing or wrong token
  | 'internal'; // a bug or an unexpected failure

export interface ServiceErrorData {
  code: ErrorCode;
  message: string;
  /** Extra detail: the file an import failed on, the layer a spec failed at, the field that is out of range. */
  detail?: { file?: string; layerIndex?: number | null; field?: string; importCode?: string };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceErrorData };

// ---------------------------------------------------------------------------------------------
// Datasets

export type { DatasetFormat, LintReport } from './datasets/types.js';

/** What the library knows of a dataset: its import result (minus where the cache lives) + library fields. */
export type DatasetInfo = Omit<ImportedDataset, 'cacheFile' | 'reused' | 'innerFormat' | 'cacheBytes'> & {
  id: number;
  createdAt: string;
  /** Runs that use this dataset. */
  runCount: number;
};

export interface ImportDatasetRequest {
  path: string;
  name?: string;
  mixedSizes?: 'skip' | 'resize' | 'refuse';
  resizeTo?: [number, number];
  channels?: 1 | 3;
  /** Chosen by the caller so it can cancel and match progress events; one is made up otherwise. */
  importId?: string;
}

export interface ImportDatasetResponse {
  dataset: DatasetInfo;
  /** True when the same content was already imported: nothing new was stored. */
  alreadyImported: boolean;
}

export interface ThumbnailsRequest {
  datasetId: number;
  split: 'train' | 'test';
  indices: number[];
  /** 'png' (default): base64 PNG per image; 'raw': base64 of the H×W×C uint8 pixels. */
  format?: 'png' | 'raw';
  /** Upscale factor for PNGs (nearest neighbour); default 1. */
  scale?: number;
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

export type RunStatus = 'queued' | 'running' | 'paused' | 'completed' | 'stopped' | 'failed' | 'interrupted';

export type OptimizerOptions =
  | { type: 'sgd'; learningRate: number; momentum?: number; weightDecay?: number; nesterov?: boolean }
  | { type: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number };

export type ScheduleOptions =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'cosine'; minLearningRate?: number };

export type KernelChoice = 'fast' | 'reference';

/**
 * Every knob of a run. Stored whole (as JSON) with the run; the defaults are filled in before
 * storing, so a stored run says exactly what it trained with.
 */
export interface Hyperparameters {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  seed: number;
  /** Fraction of the training images held out for validation (seeded split), in [0, 1). */
  validationSplit: number;
  /** Early stopping on validation loss; null = off. Restores the best weights when it stops. */
  earlyStopping: { patience: number; minDelta?: number; monitor?: 'valLoss' | 'valAccuracy' | 'trainLoss' } | null;
  augment: { flipHorizontal: boolean; maxShift: number };
  /** Use only the first N images of the training split (quick experiments); null = all. */
  trainLimit: number | null;
  /** Kernel set requested; the run records the one actually used in `kernelsUsed`. */
  kernels: KernelChoice;
  /** Threads that compute each batch's gradient (data-parallel, shards of 4 images summed in a fixed
   *  order): a speed setting only — the weights are bit-identical for any number of threads. */
  threads: number;
  /** Post (and store) batch progress every N batches. */
  progressEvery: number;
}

export type HyperparameterInput = Partial<Omit<Hyperparameters, 'optimizer' | 'augment'>> & {
  optimizer?: Partial<OptimizerOptions> & { type?: 'sgd' | 'adam' };
  augment?: Partial<Hyperparameters['augment']>;
};

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
  kind: 'epoch' | 'pause' | 'stop' | 'final';
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

export interface StartRunRequest {
  datasetId: number;
  spec: ModelSpec;
  hyperparameters?: HyperparameterInput;
  name?: string;
  notes?: string;
  tags?: string[];
}

export interface ForkRunRequest {
  runId: number;
  /** Default: the run's latest snapshot. */
  snapshotId?: number;
  /** Changes on top of the parent's hyperparameters. */
  hyperparameters?: HyperparameterInput;
  name?: string;
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

export interface EvaluateRunRequest {
  runId: number;
  /** Another dataset with the same shape and classes; default the run's own. */
  datasetId?: number;
  /** Default the run's best/final snapshot. */
  snapshotId?: number;
  /** Default 'test' when the dataset has a test set, else 'validation'. */
  split?: 'test' | 'validation' | 'train';
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

export interface ExportRunRequest {
  runId: number;
  format: 'json' | 'onnx' | 'csv';
  /** Default the best/final snapshot. */
  snapshotId?: number;
  /** Write the file(s) here (json writes OUT and OUT's .bin sibling); else the bytes come back in base64. */
  outPath?: string;
}

export interface ExportRunResponse {
  files: { name: string; path: string | null; bytes: number; base64?: string }[];
}

// ---------------------------------------------------------------------------------------------
// The command map

export interface Commands {
  listDatasets: { request: Record<string, never> | void; response: DatasetInfo[] };
  getDataset: { request: { id: number }; response: DatasetInfo };
  importDataset: { request: ImportDatasetRequest; response: ImportDatasetResponse };
  cancelImport: { request: { importId: string }; response: { cancelled: boolean } };
  deleteDataset: { request: { id: number }; response: { deleted: true } };
  getThumbnails: { request: ThumbnailsRequest; response: Thumbnail[] };
  validateSpec: { request: { datasetId?: number; spec: ModelSpec }; response: ShapeReport & { datasetMessage?: string } };
  templates: { request: { datasetId?: number } | void; response: { name: string; description: string; spec: ModelSpec }[] };

  startRun: { request: StartRunRequest; response: RunSummary };
  pauseRun: { request: { id: number }; response: RunSummary };
  resumeRun: { request: { id: number }; response: RunSummary };
  stopRun: { request: { id: number }; response: RunSummary };
  listRuns: { request: { datasetId?: number; status?: RunStatus; limit?: number } | void; response: RunSummary[] };
  getRun: { request: { id: number; batches?: boolean }; response: RunDetail };
  forkRun: { request: ForkRunRequest; response: RunSummary };
  compareRuns: { request: { ids: number[] }; response: CompareResponse };
  evaluateRun: { request: EvaluateRunRequest; response: EvaluationInfo };
  /** Stops the run's evaluations in progress; each rejects with code 'cancelled'. */
  cancelEvaluation: { request: { runId: number }; response: { cancelled: boolean } };
  exportRun: { request: ExportRunRequest; response: ExportRunResponse };
  deleteRun: { request: { id: number }; response: { deleted: true } };
  updateRun: { request: { id: number; name?: string; notes?: string; tags?: string[] }; response: RunSummary };
}

export type CommandName = keyof Commands;
export type RequestOf<C extends CommandName> = Commands[C]['request'];
export type ResponseOf<C extends CommandName> = Commands[C]['response'];

export const COMMAND_NAMES: readonly CommandName[] = [
  'listDatasets', 'getDataset', 'importDataset', 'cancelImport', 'deleteDataset', 'getThumbnails', 'validateSpec', 'templates',
  'startRun', 'pauseRun', 'resumeRun', 'stopRun', 'listRuns', 'getRun', 'forkRun', 'compareRuns', 'evaluateRun', 'cancelEvaluation', 'exportRun',
  'deleteRun', 'updateRun',
];

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

/** What every transport needs from the service: one call per command and one subscription per event. */
export interface ContractHandler {
  call<C extends CommandName>(command: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}
