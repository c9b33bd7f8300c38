/**
 * The command map: every command the service answers, as a value. Each entry is the command's
 * request schema; the request types are inferred from them and the response types are listed in
 * `Responses` beside them. The renderer's web client, the Electron IPC binding and the web server
 * all iterate this one map, and the service validates every request against it where a transport
 * hands it over (`Service.call`), so a malformed call gets `bad_request` naming the field.
 */
import type { ModelSpec, ShapeReport } from './types.js';
import type {
  CompareResponse, DatasetInfo, EvaluationImagesResponse, EvaluationInfo, Events, EventName, ExportRunResponse, FeatureMapsResponse, FiltersResponse, ImportDatasetResponse, PredictResponse,
  Result, RunDetail, RunDiff, RunSummary, StepThroughResponse, SweepDetail, SweepInfo, Thumbnail,
} from './types.js';
import type { GradientCheckResponse, RunHealthResponse, SaliencyResponse } from './types.js';
import { RUN_STATUSES } from './types.js';
import { RUN_SORTS } from './run-query.js';
import { hyperparameterInputSchema, type HyperparameterInput } from './hyperparameters.js';
import {
  array, boolean, custom, id, integer, none, number, object, oneOf, optional, request, RequestError, string, tuple, variants, type Infer, type Schema,
} from './schema.js';

/** Request sizes the service accepts (each is checked before any work is done). */
export const REQUEST_LIMITS = {
  /** Thumbnails per getThumbnails call (a gallery page asks for far fewer). */
  thumbnailsPerCall: 500,
  /** Runs in one comparison. */
  compareRuns: 20,
  /** Layers in a ModelSpec. */
  layers: 256,
  /** Characters of a name / of notes; tags per run. */
  nameLength: 200,
  notesLength: 20_000,
  tags: 50,
  /** Classes of a dataset. */
  classes: 256,
  /** Runs one sweep may queue. */
  sweepRuns: 100,
  /** Flipped images listed per direction in a run diff. */
  flippedImages: 2000,
  /** Values of one swept hyperparameter. */
  sweepValues: 20,
  /** Bytes of a model file sent to importModel (base64 in the request: 4/3 as many characters). */
  modelFileBytes: 64 * 1024 * 1024,
  /** Bytes of an image file handed to an inspection (base64 in the request: 4/3 of it). Its pixel
   *  count is bounded too, from its header, before it is decoded (the import's maxImagePixels). */
  imageFileBytes: 8 * 1024 * 1024,
  /** Width or height of drawn pixels. */
  pixelsSide: 1024,
  /** Inspections computing at once (each in a worker of its own); one more is refused. */
  inspectionsRunning: 4,
  /** Images and entries per parameter of one gradient check (each entry costs two float64 forward passes over the images). */
  gradientCheckSamples: 16,
  gradientCheckEntries: 256,
  /** Images of one confusion cell per evaluationImages call (a gallery page asks for 24). */
  evaluationImagesPerCall: 200,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A ModelSpec's outline; the engine's inferShapes checks the rest and names the layer. */
const modelSpec = custom<ModelSpec>(
  `a ModelSpec: { inputShape: [H, W, C], layers: [{ type, … }] } with at most ${REQUEST_LIMITS.layers} layers`,
  (v) => isObject(v) && Array.isArray(v.inputShape) && v.inputShape.length === 3 && v.inputShape.every((x) => typeof x === 'number') &&
    Array.isArray(v.layers) && v.layers.length <= REQUEST_LIMITS.layers && v.layers.every((l) => isObject(l) && typeof l.type === 'string') &&
    Object.keys(v).every((k) => k === 'inputShape' || k === 'layers'),
);

const name = () => string({ minLength: 1, maxLength: REQUEST_LIMITS.nameLength });
/** A file's name without any folder: requests never choose where the service writes. */
const fileName = custom<string>('a file name without folders (no / or \\)', (v) =>
  typeof v === 'string' && v.length > 0 && v.length <= 200 && !/[\\/\0]/.test(v) && v !== '.' && v !== '..');
const split = oneOf(['test', 'validation', 'train'] as const);
const tags = () => array(name(), { maxItems: REQUEST_LIMITS.tags });
const notes = () => string({ maxLength: REQUEST_LIMITS.notesLength });
const classNames = () => array(name(), { minItems: 2, maxItems: REQUEST_LIMITS.classes });

/** A swept hyperparameter: a list of values, or (numbers, random search) a range. */
const values = <T>(item: Schema<T>) => array(item, { minItems: 1, maxItems: REQUEST_LIMITS.sweepValues });
const range = (min: number, max: number) => object({ min: number({ min, max }), max: number({ min, max }) });
const either = <A, B>(a: Schema<A>, b: Schema<B>, expected: string): Schema<A | B> => ({
  expected,
  parse: (v, path) => (Array.isArray(v) ? a.parse(v, path) : b.parse(v, path)),
});
const sweepSpace = object({
  learningRate: optional(either(values(number({ min: 0, minExclusive: true })), range(1e-8, 10), 'a list of learning rates or { min, max }')),
  batchSize: optional(values(integer({ min: 1, max: 65_536 }))),
  optimizer: optional(values(oneOf(['sgd', 'adam'] as const))),
  dropoutRate: optional(either(values(number({ min: 0, max: 0.95 })), range(0, 0.95), 'a list of dropout rates or { min, max }')),
  epochs: optional(values(integer({ min: 1, max: 100_000 }))),
});

const base64Of = (bytes: number) => string({ minLength: 1, maxLength: Math.ceil(bytes / 3) * 4 });
/** An image to look at with a model: one of a dataset's own, a file's bytes (PNG, JPEG, WebP, GIF), or drawn pixels. */
const imageInput = variants({
  dataset: object({ type: oneOf(['dataset'] as const), datasetId: id(), split: oneOf(['train', 'test'] as const), index: integer({ min: 0 }) }),
  file: object({ type: oneOf(['file'] as const), base64: base64Of(REQUEST_LIMITS.imageFileBytes), name: optional(string({ maxLength: REQUEST_LIMITS.nameLength })) }),
  pixels: object({
    type: oneOf(['pixels'] as const),
    width: integer({ min: 1, max: REQUEST_LIMITS.pixelsSide }),
    height: integer({ min: 1, max: REQUEST_LIMITS.pixelsSide }),
    channels: oneOf([1, 3] as const),
    /** H×W×C uint8, row-major. */
    base64: base64Of(REQUEST_LIMITS.pixelsSide * REQUEST_LIMITS.pixelsSide * 3),
  }),
});
/** What every inspection names: the run, its snapshot (default the latest), and an id to cancel it by. */
const inspection = {
  runId: id(),
  snapshotId: optional(id()),
  /** Chosen by the caller so it can cancel (cancelInspection). */
  inspectionId: optional(string({ minLength: 1, maxLength: 100 })),
};
const unitOf = tuple([integer({ min: 0 }), integer({ min: 0 }), integer({ min: 0 })] as const);

export const COMMANDS = {
  listDatasets: none(),
  getDataset: request({ id: id() }),
  importDataset: request({
    path: string({ minLength: 1, maxLength: 4096 }),
    name: optional(name()),
    mixedSizes: optional(oneOf(['skip', 'resize', 'refuse'] as const)),
    resizeTo: optional(tuple([integer({ min: 1, max: 4096 }), integer({ min: 1, max: 4096 })] as const)),
    channels: optional(oneOf([1, 3] as const)),
    /** Names of the classes in label order (else classes.txt, a recognised dataset's, or the labels). */
    classNames: optional(classNames()),
    /** Chosen by the caller so it can cancel and match progress events; one is made up otherwise. */
    importId: optional(string({ minLength: 1, maxLength: 100 })),
  }),
  cancelImport: request({ importId: string({ minLength: 1, maxLength: 100 }) }),
  /** Refused with in_use (detail.usedBy) while runs use it, unless withRuns: then those runs go too. */
  deleteDataset: request({ id: id(), withRuns: optional(boolean()) }),
  updateDataset: request({ id: id(), name: optional(name()), classNames: optional(classNames()), notes: optional(notes()), tags: optional(tags()) }),
  /** Imports the dataset's source again (as it was imported) to restore a missing or damaged cache. */
  reimportDataset: request({ id: id(), importId: optional(string({ minLength: 1, maxLength: 100 })) }),
  getThumbnails: request({
    datasetId: id(),
    split: oneOf(['train', 'test'] as const),
    indices: array(integer({ min: 0 }), { maxItems: REQUEST_LIMITS.thumbnailsPerCall }),
    /** 'png' (default): base64 PNG per image; 'raw': base64 of the H×W×C uint8 pixels. */
    format: optional(oneOf(['png', 'raw'] as const)),
    /** Upscale factor for PNGs (nearest neighbour); default 1. */
    scale: optional(integer({ min: 1, max: 16 })),
  }),
  validateSpec: request({ datasetId: optional(id()), spec: modelSpec }),
  templates: request({ datasetId: optional(id()) }),

  startRun: request({
    datasetId: id(),
    spec: modelSpec,
    hyperparameters: optional(hyperparameterInputSchema),
    name: optional(name()),
    notes: optional(notes()),
    tags: optional(tags()),
  }),
  pauseRun: request({ id: id() }),
  resumeRun: request({ id: id() }),
  stopRun: request({ id: id() }),
  listRuns: request({
    datasetId: optional(id()), status: optional(oneOf(RUN_STATUSES)), tag: optional(name()), sweepId: optional(id()),
    /** Words in the name or notes. */
    search: optional(string({ maxLength: REQUEST_LIMITS.nameLength })),
    /** Default 'created', newest first. */
    sort: optional(oneOf(RUN_SORTS)), order: optional(oneOf(['asc', 'desc'] as const)),
    limit: optional(integer({ min: 1, max: 100_000 })),
  }),
  getRun: request({ id: id(), batches: optional(boolean()) }),
  forkRun: request({
    runId: id(),
    /** Default: the run's latest snapshot. */
    snapshotId: optional(id()),
    /** Changes on top of the parent's hyperparameters. */
    hyperparameters: optional(hyperparameterInputSchema),
    name: optional(name()),
  }),
  compareRuns: request({ ids: array(id(), { minItems: 2, maxItems: REQUEST_LIMITS.compareRuns }) }),
  evaluateRun: request({
    runId: id(),
    /** Another dataset with the same shape and classes; default the run's own. */
    datasetId: optional(id()),
    /** Default the run's latest snapshot. */
    snapshotId: optional(id()),
    /** Default 'test' when the dataset has a test set, else 'validation'. */
    split: optional(split),
    /** Answer the snapshot's stored evaluation on those images when there is one (time travel), else evaluate and store it. */
    reuse: optional(boolean()),
  }),
  /** One confusion cell's images (true class `label`, predicted `predicted`; the diagonal: the right ones),
   *  a page at a time from the evaluation's stored predictions, each with its top-3 probabilities. */
  evaluationImages: request({
    runId: id(),
    evaluationId: id(),
    label: integer({ min: 0, max: 255 }),
    predicted: integer({ min: 0, max: 255 }),
    offset: integer({ min: 0 }),
    limit: integer({ min: 1, max: REQUEST_LIMITS.evaluationImagesPerCall }),
  }),
  /** Stops the run's evaluations in progress; each rejects with code 'cancelled'. */
  cancelEvaluation: request({ runId: id() }),
  exportRun: request({
    runId: id(),
    /** 'pytorch': a PyTorch project of the snapshot (model.py, train.py, data.py, weights, verify.py), its files for one folder.
     *  'html': one self-contained page that classifies images with the snapshot in any browser, offline (refused over 32 MiB). */
    format: oneOf(['json', 'onnx', 'csv', 'pytorch', 'html'] as const),
    /** Default the run's latest snapshot. */
    snapshotId: optional(id()),
    /** The main file's name (default run-<id>.<format>); a JSON export's weights are that name + '.bin'. */
    fileName: optional(fileName),
  }),
  /** A model file in the studio's format (as an exported PyTorch project's train.py writes it) as a
   *  completed run on a dataset its spec fits: evaluate, inspect, export and compare it as any run. */
  importModel: request({
    datasetId: id(),
    /** The file's bytes, base64. */
    model: custom<string>(`a model file's bytes in base64, at most ${REQUEST_LIMITS.modelFileBytes} bytes`, (v) =>
      typeof v === 'string' && v.length > 0 && v.length <= Math.ceil(REQUEST_LIMITS.modelFileBytes / 3) * 4 && /^[A-Za-z0-9+/]*={0,2}$/.test(v)),
    name: optional(name()),
  }),
  /** Class probabilities of one image, preprocessed as the run's training images were. */
  predict: request({ ...inspection, image: imageInput }),
  /** Every conv and pool layer's output for one image, with each unit's receptive field. */
  featureMaps: request({ ...inspection, image: imageInput }),
  /** Every conv layer's filters as tiles. */
  inspectFilters: request({ ...inspection }),
  /** One image forward and backward, layer by layer, with the engine's numbers. */
  stepThrough: request({
    ...inspection,
    image: imageInput,
    /** The class the loss is taken against; default the dataset's label, else the predicted class. */
    label: optional(integer({ min: 0, max: 255 })),
    /** Output units to explain, by layer index; the rest follow as a chain. */
    units: optional(array(object({ layer: integer({ min: 0 }), unit: unitOf }), { maxItems: REQUEST_LIMITS.layers })),
  }),
  /** The gradient of a class's score (default the predicted class) w.r.t. the input pixels, and the top-3 probabilities. */
  saliency: request({ ...inspection, image: imageInput, classIndex: optional(integer({ min: 0, max: 255 })) }),
  /** A float64 finite-difference check of the snapshot's gradient, layer by layer, on the first images of its dataset. */
  gradientCheck: request({
    ...inspection,
    /** Images (default 4), from the test split when the dataset has one, else the training split. */
    samples: optional(integer({ min: 1, max: REQUEST_LIMITS.gradientCheckSamples })),
    /** Entries compared per parameter, picked with a fixed seed (default 16; all of a smaller one). */
    entriesPerParameter: optional(integer({ min: 1, max: REQUEST_LIMITS.gradientCheckEntries })),
  }),
  /** The run's training health: its per-layer measurements and the findings with suggested fixes. */
  runHealth: request({ runId: id() }),
  /** Stops an inspection waiting or running; it rejects with code 'cancelled'. */
  cancelInspection: request({ inspectionId: string({ minLength: 1, maxLength: 100 }) }),
  /** Refused with in_use (detail.usedBy) when the run has forks, unless confirmed (they keep their snapshots). */
  deleteRun: request({ id: id(), confirmed: optional(boolean()) }),
  updateRun: request({ id: id(), name: optional(name()), notes: optional(notes()), tags: optional(tags()) }),
  /** Layer stacks, hyperparameters, per-class metrics and the images that flipped between two runs. */
  diffRuns: request({ a: id(), b: id() }),
  /** Queues a grid or seeded random search from a run: its dataset, model and settings, with the space's values. */
  startSweep: request({
    runId: id(),
    kind: oneOf(['grid', 'random'] as const),
    space: sweepSpace,
    /** The cap: a grid with more combinations is refused; a random search makes this many runs. */
    maxRuns: integer({ min: 1, max: REQUEST_LIMITS.sweepRuns }),
    seed: optional(integer({ min: 0, max: 0xffffffff })),
    parallel: optional(oneOf([1, 2] as const)),
    name: optional(name()),
  }),
  listSweeps: none(),
  getSweep: request({ id: id() }),
  /** Stops the sweep's queued and running runs (running ones keep a snapshot). */
  cancelSweep: request({ id: id() }),
} satisfies Record<string, Schema<unknown>>;

export type CommandName = keyof typeof COMMANDS;
export type RequestOf<C extends CommandName> = Infer<(typeof COMMANDS)[C]>;

/** A ready-made spec sized to a dataset, and the hyperparameters it is meant to train with. */
export interface TemplateInfo {
  name: string;
  description: string;
  spec: ModelSpec;
  /** Recommended hyperparameters over the defaults (a form or the CLI's flags go on top). */
  hyperparameters?: HyperparameterInput;
}

/** What each command answers. */
export interface Responses {
  listDatasets: DatasetInfo[];
  getDataset: DatasetInfo;
  importDataset: ImportDatasetResponse;
  cancelImport: { cancelled: boolean };
  deleteDataset: { deleted: true; runsDeleted: number[] };
  updateDataset: DatasetInfo;
  reimportDataset: DatasetInfo;
  getThumbnails: Thumbnail[];
  validateSpec: ShapeReport & { datasetMessage?: string };
  templates: TemplateInfo[];
  startRun: RunSummary;
  pauseRun: RunSummary;
  resumeRun: RunSummary;
  stopRun: RunSummary;
  listRuns: RunSummary[];
  getRun: RunDetail;
  forkRun: RunSummary;
  compareRuns: CompareResponse;
  evaluateRun: EvaluationInfo;
  evaluationImages: EvaluationImagesResponse;
  cancelEvaluation: { cancelled: boolean };
  exportRun: ExportRunResponse;
  importModel: RunSummary;
  predict: PredictResponse;
  featureMaps: FeatureMapsResponse;
  inspectFilters: FiltersResponse;
  stepThrough: StepThroughResponse;
  saliency: SaliencyResponse;
  gradientCheck: GradientCheckResponse;
  runHealth: RunHealthResponse;
  cancelInspection: { cancelled: boolean };
  deleteRun: { deleted: true };
  updateRun: RunSummary;
  diffRuns: RunDiff;
  startSweep: SweepDetail;
  listSweeps: SweepInfo[];
  getSweep: SweepDetail;
  cancelSweep: SweepDetail;
}
// Both ways: a command without a response type, or a response without a command, fails to compile.
type Exact<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const _responsesCoverCommands: Exact<Responses, typeof COMMANDS> = true;
void _responsesCoverCommands;

export type ResponseOf<C extends CommandName> = Responses[C];

export type StartRunRequest = RequestOf<'startRun'>;
export type ForkRunRequest = RequestOf<'forkRun'>;
export type ImportDatasetRequest = RequestOf<'importDataset'>;
export type ThumbnailsRequest = RequestOf<'getThumbnails'>;
export type EvaluateRunRequest = RequestOf<'evaluateRun'>;
export type EvaluationImagesRequest = RequestOf<'evaluationImages'>;
export type ExportRunRequest = RequestOf<'exportRun'>;
export type ListRunsRequest = RequestOf<'listRuns'>;
export type StartSweepRequest = RequestOf<'startSweep'>;
export type UpdateDatasetRequest = RequestOf<'updateDataset'>;
export type ImportModelRequest = RequestOf<'importModel'>;
export type ImageInput = RequestOf<'predict'>['image'];

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** A request as the service may take it, or the refusal naming the field. */
export function parseRequest<C extends CommandName>(command: C, raw: unknown): Result<RequestOf<C>> {
  try {
    return { ok: true, value: (COMMANDS[command] as Schema<RequestOf<C>>).parse(raw, '') };
  } catch (e) {
    if (e instanceof RequestError) return { ok: false, error: { code: 'bad_request', message: `${command}: ${e.message}`, detail: { field: e.field } } };
    throw e;
  }
}

/** The one API type: a function per command (errors as data) and a subscription per event. What
 *  window.cnnStudio is in Electron, the web client is in a browser, and every transport binds to. */
export type StudioApi = {
  [C in CommandName]: (request: RequestOf<C>) => Promise<Result<ResponseOf<C>>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

/** What a transport needs from the service: one call (validated there) and one subscription per event. */
export interface ContractHandler {
  call<C extends CommandName>(command: C, request: unknown): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}
