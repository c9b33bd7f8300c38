/**
 * The data of the contract: what commands answer and events carry. Everything here is plain JSON
 * (no Uint8Array, no Date) so every transport carries it unchanged; bytes travel as base64 strings.
 * The requests are in commands.ts, as schemas.
 */
import type { ModelSpec } from '../../src-engine/spec.js';
import type { ShapeReport } from '../../src-engine/shapes.js';
import type { BatchEvent, EpochMetrics } from '../../src-engine/train.js';
import type { Range, StepThrough } from '../../src-engine/inspect/index.js';
import type { HealthFinding, HealthRecord, LayerHealth, NonFiniteStep } from '../../src-engine/inspect/index.js';
import type { ImportedDataset } from '../datasets/types.js';
import type { EarlyStoppingMonitor, Hyperparameters } from './hyperparameters.js';

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
  | 'in_use' // a dataset that runs still use, a run that has forks: the caller confirms (detail.usedBy)
  | 'dataset_unavailable' // the dataset's cache file is missing or damaged: re-import it (detail.datasetId, detail.source)
  | 'busy' // too much of that work is running or waiting already (the message says the numbers)
  | 'storage' // the library could not be read or written: disk full, damaged file (the message says what to do)
  | 'unauthorized' // web transport: missing or wrong token
  | 'internal'; // a bug or an unexpected failure

export interface ServiceErrorData {
  code: ErrorCode;
  message: string;
  /** Extra detail: the file an import failed on, the layer a spec failed at, the field that is out of range. */
  detail?: {
    file?: string; layerIndex?: number | null; field?: string; importCode?: string; limit?: { name: string; actual: number; limit: number };
    /** What stands in the way (the runs that use a dataset, the forks of a run). */
    usedBy?: { id: number; name: string }[];
    /** A dataset to re-import, and where from. */
    datasetId?: number;
    source?: string;
  };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceErrorData };

// ---------------------------------------------------------------------------------------------
// Datasets

export type { DatasetFormat, LintReport } from '../datasets/types.js';

/** What the library knows of a dataset: its import result (minus where the cache lives) + library fields. */
export type DatasetInfo = Omit<ImportedDataset, 'cacheFile' | 'reused' | 'innerFormat' | 'cacheBytes' | 'recognizedAs'> & {
  id: number;
  createdAt: string;
  /** Runs that use this dataset. */
  runCount: number;
  notes: string;
  tags: string[];
  /** Null when the decoded images are there; else why not ("the cache file … is missing"): re-import it. */
  cacheProblem: string | null;
};

export interface ImportDatasetResponse {
  dataset: DatasetInfo;
  /** True when the same content was already imported: nothing new was stored. */
  alreadyImported: boolean;
  /** A well-known dataset the images were recognised as ("Fashion-MNIST"), which named its classes. */
  recognizedAs: string | null;
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
  /** Of the latest evaluation on the test split. */
  testAccuracy: number | null;
  stopReason: string | null;
  /** The highest validation accuracy of any epoch. */
  bestValAccuracy: number | null;
  /** What the best epoch was chosen by (early stopping's monitor, else validation loss, else train
   *  loss), and that metric's value at the best epoch. */
  bestMonitor: EarlyStoppingMonitor | null;
  bestMonitorValue: number | null;
  /** A fork continues its parent's numbering: its first epoch is epochOffset + 1, its steps follow stepOffset. */
  epochOffset: number;
  stepOffset: number;
  /** The sweep that queued this run. */
  sweepId: number | null;
}

/** The epoch a run ends at, in its own numbering (a fork's extra epochs after its parent's). */
export const finalEpoch = (r: Pick<RunSummary, 'epochOffset' | 'hyperparameters'>): number => r.epochOffset + r.hyperparameters.epochs;

/** How a monitored metric is named in words. */
export const MONITOR_WORDS: Record<EarlyStoppingMonitor, string> = { valLoss: 'validation loss', valAccuracy: 'validation accuracy', trainLoss: 'train loss' };

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
  /** Batches done of epoch `epoch + 1` (0 at an epoch's end). */
  batch: number;
  step: number;
  /** 'interval': taken within an epoch every few minutes, so a crash loses at most that much. */
  kind: 'epoch' | 'pause' | 'stop' | 'interval';
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

/** One evaluated image of a confusion cell, from the evaluation's stored predictions. */
export interface EvaluatedImage {
  /** Into the dataset's `imageSplit` images (getThumbnails). */
  index: number;
  label: number;
  predicted: number;
  /** The three likeliest classes, likeliest first. */
  top: { classIndex: number; className: string; probability: number }[];
}

export interface EvaluationImagesResponse {
  evaluationId: number;
  datasetId: number;
  /** The dataset split the indices point into: validation and train evaluations index the training images. */
  imageSplit: 'train' | 'test';
  label: number;
  predicted: number;
  /** Images in the cell: confusion[label][predicted]. */
  total: number;
  offset: number;
  images: EvaluatedImage[];
}

// ---------------------------------------------------------------------------------------------
// Looking inside a run (computed in the inspection worker from a stored snapshot)

export type { Range, StepThrough };
export type { BackwardDetail, ForwardDetail, StepLayer, Unit } from '../../src-engine/inspect/index.js';

/** Which weights an inspection used. */
export interface InspectedSnapshot {
  runId: number;
  snapshotId: number;
  /** Completed epochs when the snapshot was taken. */
  epoch: number;
}

/** An image as the model saw it, and what was done to it on the way (the training preprocessing). */
export interface PreparedImage {
  width: number;
  height: number;
  channels: number;
  /** Base64 of the H×W×C uint8 pixels (the model sees them ÷ 255). */
  base64: string;
  /** What was done to it, in order, e.g. "resized 640×480 → 28×28", "converted to grayscale". */
  steps: string[];
  /** The dataset's label, for one of its own images; null for a dropped or drawn one. */
  label: number | null;
}

export interface ClassProbability {
  classIndex: number;
  className: string;
  probability: number;
}

export interface PredictResponse extends InspectedSnapshot {
  image: PreparedImage;
  /** Per class, in class order. */
  probabilities: number[];
  /** Every class, likeliest first. */
  ranked: ClassProbability[];
}

/** Float arrays travel as base64 of their little-endian float32 bytes. */
export interface FeatureMapLayer {
  index: number;
  label: string;
  type: string;
  /** [H, W, C] */
  shape: [number, number, number];
  min: number;
  max: number;
  /** (H, W, C) float32 values. */
  values: string;
  /** Per output row / column, the image rows / columns it reads; null when a layer below has no inspector. */
  receptiveField: { rows: Range[]; cols: Range[] } | null;
}

export interface UnsupportedLayer {
  index: number;
  label: string;
  reason: string;
}

export interface FeatureMapsResponse extends InspectedSnapshot {
  image: PreparedImage;
  probabilities: number[];
  layers: FeatureMapLayer[];
  unsupported: UnsupportedLayer[];
}

export interface FilterLayer {
  index: number;
  label: string;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  /** 'rgb': one colour tile per filter (a first layer over RGB); 'channels': a gray tile per input channel. */
  mode: 'rgb' | 'channels';
  /** Per filter: the scale of its tiles (its smallest weight is black, its largest white). */
  min: number[];
  max: number[];
  /** (Cout, Cin, KH, KW) uint8, base64. */
  tiles: string;
  /** (Cout, Cin, KH, KW) float32, base64: a tap's value on hover. */
  weights: string;
  bias: number[];
}

export interface FiltersResponse extends InspectedSnapshot {
  layers: FilterLayer[];
  unsupported: UnsupportedLayer[];
}

export interface StepThroughResponse extends InspectedSnapshot {
  image: PreparedImage;
  classNames: string[];
  /** Whether the label is the dataset's (else the caller's, or the predicted class for an unlabelled image). */
  labelFrom: 'dataset' | 'request' | 'predicted';
  steps: StepThrough;
}

// ---------------------------------------------------------------------------------------------
// Why did it say that, the gradient check on demand, training health

export type { HealthFinding, HealthRecord, LayerHealth, NonFiniteStep };

export interface SaliencyResponse extends InspectedSnapshot {
  image: PreparedImage;
  /** The class whose score (its logit) was differentiated: the predicted one unless one was asked for. */
  classIndex: number;
  predicted: number;
  /** Per class, in class order. */
  probabilities: number[];
  /** The three likeliest classes, likeliest first. */
  top: ClassProbability[];
  /** (H, W) float32, base64: per pixel the largest |∂z_class / ∂x| over the channels. */
  map: string;
  /** The map's largest value (the heat map is drawn relative to it). */
  max: number;
}

/** One parameter's (or the input's) check: entries compared, their largest and median relative error. */
export interface ParameterCheckRow {
  name: string;
  checked: number;
  total: number;
  maxRelError: number;
  medianRelError: number;
  /** Within the response's tolerance: median and largest error both at or below theirs. */
  passed: boolean;
}

export interface LayerCheckRow {
  index: number;
  label: string;
  parameters: ParameterCheckRow[];
  /** The layer's largest error; null for a layer without parameters (nothing to check). */
  maxRelError: number | null;
  passed: boolean | null;
}

export interface GradientCheckResponse extends InspectedSnapshot {
  /** A parameter passes when its median relative error |analytic − numeric| / (|analytic| + |numeric|)
   *  is at most `median` and its largest at most `max` (one entry may sit on a ReLU kink or a max
   *  switch within ±h, which only that entry shows). */
  tolerance: { median: number; max: number };
  /** The finite-difference step (float64 central differences). */
  h: number;
  /** The images checked: the first of that split of the run's dataset, with their labels. */
  split: 'test' | 'train';
  indices: number[];
  loss: number;
  layers: LayerCheckRow[];
  /** dL/dx, shown but not judged: an input pixel of a flat region (an image's black background) often
   *  sits where pooled conv outputs tie or a ReLU is exactly at 0 — a kink, where the loss has no
   *  derivative and a central difference averages the two sides. */
  input: Omit<ParameterCheckRow, 'passed'>;
  /** Every layer's parameters passed. */
  passed: boolean;
  /** Loss evaluations made (two per entry), and the seconds they took. */
  evaluations: number;
  seconds: number;
}

/** A health measurement of a run, or of an ancestor it was forked from (runId says which). */
export type RunHealthRecord = HealthRecord & { runId: number };

export interface RunHealthResponse {
  runId: number;
  /** The run's healthEvery: a measurement every N batches (0: off). */
  every: number;
  /** Oldest first; a fork's begin with its parent's up to the snapshot it was forked from. */
  records: RunHealthRecord[];
  /** The step whose loss went non-finite, with the first layer that did, if the run failed so. */
  failure: NonFiniteStep | null;
  /** In plain words, each with a suggested fix (engine rules over the latest measurements). */
  findings: HealthFinding[];
}

/** A health measurement as training makes it (every healthEvery batches), counted as the run counts. */
export interface RunHealthEvent extends RunHealthRecord {
  batchesPerEpoch: number;
}

/** A long inspection's progress (the gradient check: parameters checked so far). */
export interface InspectionProgressEvent {
  inspectionId: string;
  runId: number;
  kind: 'gradientCheck';
  done: number;
  total: number;
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
  /** The layer stacks aligned by sequence against the first run's: one row per aligned position, a
   *  layer's words per run (null where that run has no layer there), and what each run did there
   *  against the first ('same', 'changed', 'inserted', 'removed'). Only rows that differ. */
  architectureDiffs: ArchitectureRow[];
  sameArchitecture: boolean;
  /** Per-class F1/precision/recall from each run's latest evaluation (null if not evaluated). */
  perClass: { className: string; f1: (number | null)[]; precision: (number | null)[]; recall: (number | null)[] }[];
  testAccuracy: (number | null)[];
}

export type LayerChange = 'same' | 'changed' | 'inserted' | 'removed';

export interface ArchitectureRow {
  /** The layer's 1-based position in each run (null where absent). */
  positions: (number | null)[];
  values: (string | null)[];
  /** Per run, against the first run (the first is always 'same'). */
  changes: LayerChange[];
}

/** A semantic diff of two runs: what changed, and what it did. */
export interface RunDiff {
  a: { id: number; name: string };
  b: { id: number; name: string };
  /** Both layer stacks aligned (every row, the unchanged too). */
  layers: ArchitectureRow[];
  hyperparameters: { path: string; a: unknown; b: unknown }[];
  /** From each run's latest evaluation on the same images (null when there is no such pair). */
  evaluation: {
    datasetId: number;
    split: 'test' | 'validation' | 'train';
    /** Which split of the cache the image indices are in (thumbnails). */
    imageSplit: 'train' | 'test';
    count: number;
    accuracy: { a: number; b: number };
    perClass: { className: string; a: ClassMetrics; b: ClassMetrics; f1Delta: number }[];
    /** Images right in b and wrong in a (fixed), and the other way (broken); index into imageSplit.
     *  At most REQUEST_LIMITS.flippedImages of each are listed; the counts are of all. */
    fixed: FlippedImage[];
    broken: FlippedImage[];
    fixedCount: number;
    brokenCount: number;
  } | null;
  /** Why there is no evaluation part ("evaluate both runs on the test split"). */
  evaluationNote: string | null;
}

export interface FlippedImage {
  index: number;
  label: number;
  predictedA: number;
  predictedB: number;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

/** A hyperparameter a sweep varies: lists of values (grid or random choice), or a range (random only). */
export interface SweepSpace {
  learningRate?: number[] | { min: number; max: number };
  batchSize?: number[];
  optimizer?: ('sgd' | 'adam')[];
  /** Every dropout layer of the base run's model gets this rate. */
  dropoutRate?: number[] | { min: number; max: number };
  epochs?: number[];
}

export const SWEEP_PARAMETERS = ['learningRate', 'batchSize', 'optimizer', 'dropoutRate', 'epochs'] as const;
export type SweepParameter = (typeof SWEEP_PARAMETERS)[number];

export interface SweepInfo {
  id: number;
  name: string;
  datasetId: number;
  baseRunId: number | null;
  kind: 'grid' | 'random';
  space: SweepSpace;
  maxRuns: number;
  seed: number;
  /** Runs at once: 1, or 2 with one gradient thread each. */
  parallel: 1 | 2;
  createdAt: string;
}

export interface SweepDetail extends SweepInfo {
  /** Each run with the values the sweep gave it. */
  runs: { run: RunSummary; values: Partial<Record<SweepParameter, number | string>> }[];
  /** The run with the highest best validation accuracy so far. */
  bestRunId: number | null;
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
  /** Seconds of training so far (all attempts), and the images per second of the last few batches. */
  wallTime: number;
  imagesPerSecond: number | null;
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

/** What changed in the library besides a run's progress and status (renamed, tagged, evaluated, deleted). */
export interface LibraryEvent {
  kind: 'dataset' | 'run' | 'sweep';
  id: number;
  change: 'updated' | 'deleted' | 'created';
  /** The run as it is now (kind 'run', change 'updated'): e.g. its test accuracy after an evaluation. */
  run?: RunSummary;
}

export interface Events {
  runProgress: RunBatchEvent | RunEpochEvent;
  runStatus: RunStatusEvent;
  importProgress: ImportProgressEvent;
  libraryChanged: LibraryEvent;
  /** Training health, every healthEvery batches of a running run. */
  runHealth: RunHealthEvent;
  inspectionProgress: InspectionProgressEvent;
}

export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['runProgress', 'runStatus', 'importProgress', 'libraryChanged', 'runHealth', 'inspectionProgress'];
