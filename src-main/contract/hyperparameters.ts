/**
 * Every knob of a run, said once: its type, range, default, label, CLI flag and help. The service
 * fills defaults and checks ranges from this table, the CLI builds its flags from it and the
 * renderer its form fields, so a default or a limit is changed here and nowhere else. Pure data
 * and functions (the renderer imports it).
 *
 * The engine keeps its own guard on the TrainConfig it is given (checkTrainConfig): that is the
 * engine's API contract for any caller; this table is the studio's.
 */
import { RequestError, shown, type Schema } from './schema.js';

export type OptimizerType = 'sgd' | 'adam' | 'adamw';
export type ScheduleType = 'constant' | 'step' | 'cosine' | 'plateau';
export type KernelChoice = 'fast' | 'reference';
export type EarlyStoppingMonitor = 'valLoss' | 'valAccuracy' | 'trainLoss';

export type OptimizerOptions =
  | { type: 'sgd'; learningRate: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { type: 'adam' | 'adamw'; learningRate: number; beta1: number; beta2: number; epsilon: number; weightDecay: number };

export type ScheduleOptions =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'cosine'; minLearningRate: number }
  | { type: 'plateau'; factor: number; patience: number; threshold: number; minLearningRate: number };

export interface EarlyStoppingOptions {
  patience: number;
  minDelta: number;
  monitor: EarlyStoppingMonitor;
}

/**
 * Every knob of a run. Stored whole (as JSON) with the run; the defaults are filled in before
 * storing, so a stored run says exactly what it trained with.
 */
export interface Hyperparameters {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  /** Epochs of linear warm-up (per step, from lr/steps to lr) before the schedule; 0 = none. */
  warmupEpochs: number;
  /** Label smoothing ε of the training loss, in [0, 1); 0 = plain cross-entropy. */
  labelSmoothing: number;
  seed: number;
  /** Fraction of the training images held out for validation (seeded split), in [0, 0.9]. */
  validationSplit: number;
  /** Early stopping; null = off. Restores the best weights when it stops. */
  earlyStopping: EarlyStoppingOptions | null;
  augment: { flipHorizontal: boolean; maxShift: number };
  /** Use only the first N images of the training split (quick experiments); null = all. */
  trainLimit: number | null;
  /** Kernel set requested; the run records the one actually used in `kernelsUsed`. */
  kernels: KernelChoice;
  /** Threads that compute each batch's gradient (data-parallel, shards of 8 images summed in a fixed
   *  order): a speed setting only — the weights are bit-identical for any number of threads. */
  threads: number;
  /** Post (and store) batch progress every N batches. */
  progressEvery: number;
  /** Also snapshot within an epoch after this many minutes of training since the last snapshot
   *  (a crash loses at most that much); 0 = at epoch ends only. A setting: the weights do not depend on it. */
  snapshotMinutes: number;
  /** Measure (and store) training health per layer every N batches — gradient norm, update/weight
   *  ratio, dead ReLUs, activation mean/std; 0 = off. A setting: the weights do not depend on it. */
  healthEvery: number;
}

type Partialize<T> = T extends object ? { [K in keyof T]?: T[K] } : T;
/** What a caller may send: any subset; switching optimizer or schedule type starts from that type's defaults. */
export type HyperparameterInput = Partial<Omit<Hyperparameters, 'optimizer' | 'schedule' | 'augment' | 'earlyStopping'>> & {
  optimizer?: { type?: OptimizerType } & Partialize<Omit<Extract<OptimizerOptions, { type: 'sgd' }>, 'type'>> & Partialize<Omit<Extract<OptimizerOptions, { beta1: number }>, 'type'>>;
  schedule?: { type?: ScheduleType } & Partialize<Omit<Extract<ScheduleOptions, { type: 'step' }>, 'type'>> & Partialize<Omit<Extract<ScheduleOptions, { type: 'plateau' }>, 'type'>>;
  augment?: Partial<Hyperparameters['augment']>;
  earlyStopping?: Partial<EarlyStoppingOptions> | null;
};

export interface HyperparameterField {
  /** Dotted path into Hyperparameters. */
  path: string;
  /** How messages and forms name it. */
  label: string;
  kind: 'integer' | 'number' | 'boolean' | 'choice';
  choices?: readonly string[];
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** null is a value (trainLimit: all images). */
  nullable?: boolean;
  default: number | boolean | string | null;
  /** Optimizer- or schedule-specific fields: the types that have them. */
  onlyFor?: { optimizer?: readonly OptimizerType[]; schedule?: readonly ScheduleType[] };
  /** Default per optimizer type, where it differs (the learning rate, AdamW's weight decay). */
  defaultFor?: Partial<Record<OptimizerType, number>>;
  /** The words of the range where the generic ones would read worse ("a fraction from 0 to 0.9"). */
  expected?: string;
  /** The CLI flag (`--batch-size`); a boolean field is a flag without a value. */
  flag: string;
  help: string;
}

const SGD: readonly OptimizerType[] = ['sgd'];
const ADAM: readonly OptimizerType[] = ['adam', 'adamw'];
const PLATEAU: readonly ScheduleType[] = ['plateau'];

export const HYPERPARAMETER_FIELDS: readonly HyperparameterField[] = [
  { path: 'epochs', label: 'epochs', kind: 'integer', min: 1, max: 100_000, default: 5, flag: 'epochs', help: 'passes over the training images' },
  { path: 'batchSize', label: 'batch size', kind: 'integer', min: 1, max: 65_536, default: 32, flag: 'batch-size', help: 'images per gradient step' },
  { path: 'optimizer.type', label: 'optimizer', kind: 'choice', choices: ['sgd', 'adam', 'adamw'], default: 'sgd', flag: 'optimizer', help: 'sgd (with momentum), adam, or adamw (decoupled weight decay)' },
  {
    path: 'optimizer.learningRate', label: 'learning rate', kind: 'number', min: 0, minExclusive: true, default: 0.01, defaultFor: { sgd: 0.01, adam: 0.001, adamw: 0.001 },
    flag: 'lr', help: 'step size (default 0.01 for sgd, 0.001 for adam and adamw)',
  },
  { path: 'optimizer.momentum', label: 'momentum', kind: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, onlyFor: { optimizer: SGD }, flag: 'momentum', help: 'sgd momentum' },
  { path: 'optimizer.nesterov', label: 'nesterov', kind: 'boolean', default: false, onlyFor: { optimizer: SGD }, flag: 'nesterov', help: 'Nesterov momentum (sgd)' },
  { path: 'optimizer.beta1', label: 'beta1', kind: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, onlyFor: { optimizer: ADAM }, flag: 'beta1', help: 'adam first-moment decay' },
  { path: 'optimizer.beta2', label: 'beta2', kind: 'number', min: 0, max: 1, maxExclusive: true, default: 0.999, onlyFor: { optimizer: ADAM }, flag: 'beta2', help: 'adam second-moment decay' },
  { path: 'optimizer.epsilon', label: 'epsilon', kind: 'number', min: 0, minExclusive: true, default: 1e-8, onlyFor: { optimizer: ADAM }, flag: 'epsilon', help: 'adam denominator term' },
  {
    path: 'optimizer.weightDecay', label: 'weight decay', kind: 'number', min: 0, default: 0, defaultFor: { sgd: 0, adam: 0, adamw: 0.01 }, flag: 'weight-decay',
    help: 'sgd/adam: L2 penalty added to the gradient, as PyTorch does; adamw: decoupled decay (default 0.01)',
  },
  { path: 'schedule.type', label: 'schedule', kind: 'choice', choices: ['constant', 'step', 'cosine', 'plateau'], default: 'constant', flag: 'schedule', help: 'learning-rate schedule, per epoch (plateau: reduce on the validation loss)' },
  { path: 'schedule.stepSize', label: 'step size', kind: 'integer', min: 1, default: 10, onlyFor: { schedule: ['step'] }, flag: 'step-size', help: 'step schedule: epochs between decays' },
  { path: 'schedule.gamma', label: 'gamma', kind: 'number', min: 0, max: 1, minExclusive: true, default: 0.1, onlyFor: { schedule: ['step'] }, flag: 'gamma', help: 'step schedule: factor per decay' },
  { path: 'schedule.factor', label: 'plateau factor', kind: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 0.5, onlyFor: { schedule: PLATEAU }, flag: 'plateau-factor', help: 'plateau schedule: the learning rate is multiplied by this' },
  { path: 'schedule.patience', label: 'plateau patience', kind: 'integer', min: 0, default: 2, onlyFor: { schedule: PLATEAU }, flag: 'plateau-patience', help: 'plateau schedule: epochs without improvement before a reduction' },
  { path: 'schedule.threshold', label: 'plateau threshold', kind: 'number', min: 0, max: 1, maxExclusive: true, default: 1e-4, onlyFor: { schedule: PLATEAU }, flag: 'plateau-threshold', help: 'plateau schedule: relative improvement that counts' },
  { path: 'schedule.minLearningRate', label: 'minimum learning rate', kind: 'number', min: 0, default: 0, onlyFor: { schedule: ['cosine', 'plateau'] }, flag: 'min-lr', help: 'cosine and plateau schedules: the floor' },
  { path: 'warmupEpochs', label: 'warm-up epochs', kind: 'integer', min: 0, max: 100_000, default: 0, flag: 'warmup', help: 'linear warm-up over N epochs (per step) before the schedule' },
  { path: 'labelSmoothing', label: 'label smoothing', kind: 'number', min: 0, max: 1, maxExclusive: true, default: 0, flag: 'label-smoothing', help: 'smooth the one-hot targets of the training loss by ε' },
  { path: 'seed', label: 'seed', kind: 'integer', min: 0, max: 0xffffffff, default: 0, flag: 'seed', help: 'weight init, shuffling, augmentation, dropout and the validation split' },
  { path: 'validationSplit', label: 'validation split', kind: 'number', min: 0, max: 0.9, expected: 'a fraction from 0 to 0.9', default: 0.1, flag: 'val-split', help: 'fraction of the training images held out (seeded)' },
  { path: 'earlyStopping.patience', label: 'early stopping patience', kind: 'integer', min: 1, default: 3, flag: 'patience', help: 'stop after N epochs without improvement (turns early stopping on)' },
  { path: 'earlyStopping.minDelta', label: 'early stopping min delta', kind: 'number', min: 0, default: 0, flag: 'min-delta', help: 'smallest change that counts as an improvement' },
  { path: 'earlyStopping.monitor', label: 'early stopping monitor', kind: 'choice', choices: ['valLoss', 'valAccuracy', 'trainLoss'], default: 'valLoss', flag: 'monitor', help: 'the metric early stopping watches' },
  { path: 'augment.flipHorizontal', label: 'horizontal flip', kind: 'boolean', default: false, flag: 'augment-flip', help: 'flip training images left-right at random' },
  { path: 'augment.maxShift', label: 'augmentation shift', kind: 'integer', min: 0, default: 0, flag: 'augment-shift', help: 'shift training images by up to K pixels' },
  { path: 'trainLimit', label: 'train limit', kind: 'integer', min: 1, nullable: true, default: null, flag: 'limit', help: 'use only the first N training images' },
  { path: 'kernels', label: 'kernels', kind: 'choice', choices: ['fast', 'reference'], default: 'fast', flag: 'kernels', help: 'fast (WASM SIMD) or reference (readable loops)' },
  { path: 'threads', label: 'threads', kind: 'integer', min: 1, max: 64, default: 2, flag: 'threads', help: 'gradient threads: speed only, the same weights for any number' },
  { path: 'progressEvery', label: 'progress every', kind: 'integer', min: 1, max: 100_000, default: 10, flag: 'progress-every', help: 'report (and store) every N batches' },
  {
    path: 'snapshotMinutes', label: 'snapshot every (minutes)', kind: 'number', min: 0, max: 1440, default: 5, flag: 'snapshot-every',
    help: 'also snapshot within an epoch every N minutes, so a crash loses at most that (0: at epoch ends only)',
  },
  {
    path: 'healthEvery', label: 'health every', kind: 'integer', min: 0, max: 100_000, default: 50, flag: 'health-every',
    help: 'measure training health per layer (gradient norm, update/weight ratio, dead ReLUs, activations) every N batches; 0: off',
  },
];

const BY_PATH = new Map(HYPERPARAMETER_FIELDS.map((f) => [f.path, f]));

export function hyperparameterField(path: string): HyperparameterField {
  const f = BY_PATH.get(path);
  if (!f) throw new Error(`no hyperparameter ${JSON.stringify(path)}`);
  return f;
}

const fieldsUnder = (prefix: string) => HYPERPARAMETER_FIELDS.filter((f) => f.path.startsWith(prefix + '.') && !f.path.endsWith('.type'));

/** The default value of a field for an optimizer type. */
function defaultOf(f: HyperparameterField, optimizer: OptimizerType): number | boolean | string | null {
  return f.defaultFor?.[optimizer] ?? f.default;
}

/** An optimizer of `type` with every default filled in. */
export function defaultOptimizer(type: OptimizerType): OptimizerOptions {
  const out: Record<string, unknown> = { type };
  for (const f of fieldsUnder('optimizer')) if (!f.onlyFor?.optimizer || f.onlyFor.optimizer.includes(type)) out[f.path.slice(10)] = defaultOf(f, type);
  return out as OptimizerOptions;
}

/** A schedule of `type` with every default filled in. */
export function defaultSchedule(type: ScheduleType): ScheduleOptions {
  const out: Record<string, unknown> = { type };
  for (const f of fieldsUnder('schedule')) if (f.onlyFor?.schedule?.includes(type)) out[f.path.slice(9)] = f.default;
  return out as ScheduleOptions;
}

export function defaultEarlyStopping(): EarlyStoppingOptions {
  const out: Record<string, unknown> = {};
  for (const f of fieldsUnder('earlyStopping')) out[f.path.slice(14)] = f.default;
  return out as unknown as EarlyStoppingOptions;
}

const scalar = (path: string) => hyperparameterField(path).default;

export const DEFAULT_HYPERPARAMETERS: Hyperparameters = Object.freeze({
  epochs: scalar('epochs') as number,
  batchSize: scalar('batchSize') as number,
  optimizer: defaultOptimizer(scalar('optimizer.type') as OptimizerType),
  schedule: defaultSchedule(scalar('schedule.type') as ScheduleType),
  warmupEpochs: scalar('warmupEpochs') as number,
  labelSmoothing: scalar('labelSmoothing') as number,
  seed: scalar('seed') as number,
  validationSplit: scalar('validationSplit') as number,
  earlyStopping: null,
  augment: { flipHorizontal: scalar('augment.flipHorizontal') as boolean, maxShift: scalar('augment.maxShift') as number },
  trainLimit: scalar('trainLimit') as number | null,
  kernels: scalar('kernels') as KernelChoice,
  threads: scalar('threads') as number,
  progressEvery: scalar('progressEvery') as number,
  snapshotMinutes: scalar('snapshotMinutes') as number,
  healthEvery: scalar('healthEvery') as number,
}) as Hyperparameters;

/** Stored hyperparameters of a run from before a field existed, with that field's default. */
export function withDefaults(stored: Hyperparameters): Hyperparameters {
  return { ...DEFAULT_HYPERPARAMETERS, ...stored };
}

/** The words of a field's range: "an integer from 1 to 64", "in [0, 1)", "a positive number". */
export function expectedOf(f: HyperparameterField): string {
  if (f.expected) return f.expected;
  if (f.kind === 'boolean') return 'true or false';
  if (f.kind === 'choice') return `one of ${f.choices!.map((c) => `'${c}'`).join(', ')}`;
  const { min, max } = f;
  if (f.kind === 'integer') {
    const base = min !== undefined && max !== undefined ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : min !== undefined ? `an integer of at least ${min}` : 'an integer';
    return f.nullable ? `${base} or null` : base;
  }
  if (min === 0 && f.minExclusive && max === undefined) return 'a positive number';
  if (f.maxExclusive || (f.minExclusive && max !== undefined)) return `in ${f.minExclusive ? '(' : '['}${min ?? '−∞'}, ${max ?? '∞'}${f.maxExclusive ? ')' : ']'}`;
  if (min !== undefined && max !== undefined) return `a number from ${min} to ${max}`;
  if (min !== undefined) return `a number ≥ ${min}`;
  return 'a number';
}

function inRange(f: HyperparameterField, v: unknown): boolean {
  if (v === null) return f.nullable === true;
  if (f.kind === 'boolean') return typeof v === 'boolean';
  if (f.kind === 'choice') return typeof v === 'string' && f.choices!.includes(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (f.kind === 'integer' && !Number.isInteger(v)) return false;
  if (f.min !== undefined && (f.minExclusive ? v <= f.min : v < f.min)) return false;
  if (f.max !== undefined && (f.maxExclusive ? v >= f.max : v > f.max)) return false;
  return true;
}

/** The problem with a value of a field, in the words the service, CLI and UI show, or null. */
export function rangeProblem(f: HyperparameterField, v: unknown): string | null {
  if (inRange(f, v)) return null;
  // an emptied form field: said to be required, not "got null"
  if (v === null || v === undefined) return `${f.label} is required`;
  return `${f.label} must be ${expectedOf(f)}, got ${shown(v)}`;
}

function get(h: unknown, path: string): unknown {
  let v: unknown = h;
  for (const key of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Every field that applies to these hyperparameters, with its value. */
export function appliedFields(h: Hyperparameters): { field: HyperparameterField; value: unknown }[] {
  return HYPERPARAMETER_FIELDS.filter((f) => {
    if (f.path.startsWith('earlyStopping.') && h.earlyStopping === null) return false;
    if (f.onlyFor?.optimizer && !f.onlyFor.optimizer.includes(h.optimizer.type)) return false;
    if (f.onlyFor?.schedule && !f.onlyFor.schedule.includes(h.schedule.type)) return false;
    return true;
  }).map((field) => ({ field, value: get(h, field.path) }));
}

/** The first out-of-range field of complete hyperparameters: { field path, message }, or null. */
export function firstRangeProblem(h: Hyperparameters): { field: string; message: string } | null {
  for (const { field, value } of appliedFields(h)) {
    const message = rangeProblem(field, value);
    if (message) return { field: field.path, message };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The request schema of HyperparameterInput: types only (ranges are checked after the merge, on
// the complete hyperparameters, so a fork's inherited values are checked too).

const GROUPS = ['optimizer', 'schedule', 'earlyStopping', 'augment'] as const;

function kindOk(f: HyperparameterField, v: unknown): boolean {
  if (v === null) return f.nullable === true;
  if (f.kind === 'boolean') return typeof v === 'boolean';
  if (f.kind === 'choice') return typeof v === 'string' && f.choices!.includes(v);
  return typeof v === 'number' && Number.isFinite(v) && (f.kind === 'number' || Number.isInteger(v));
}

function kindWords(f: HyperparameterField): string {
  if (f.kind === 'integer') return f.nullable ? 'an integer or null' : 'an integer';
  if (f.kind === 'number') return 'a number';
  return expectedOf(f);
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

function parseGroup(value: unknown, group: string, path: string): Record<string, unknown> {
  if (!isPlain(value)) throw new RequestError(path, `${path} must be an object, got ${shown(value)}`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const f = BY_PATH.get(`${group}.${key}`);
    const at = `${path}.${key}`;
    if (!f) throw new RequestError(at, `unknown hyperparameter ${JSON.stringify(at)}`);
    if (v === undefined) continue;
    if (v === null && !f.nullable) throw new RequestError(at, `${at} is required`);
    if (!kindOk(f, v)) throw new RequestError(at, `${at} must be ${kindWords(f)}, got ${shown(v)}`);
    out[key] = v;
  }
  return out;
}

export const hyperparameterInputSchema: Schema<HyperparameterInput> = {
  expected: 'an object of hyperparameters',
  parse(value, path) {
    if (!isPlain(value)) throw new RequestError(path, `${path} must be an object, got ${shown(value)}`);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const at = `${path}.${key}`;
      if (v === undefined) continue;
      if ((GROUPS as readonly string[]).includes(key)) {
        if (key === 'earlyStopping' && v === null) out[key] = null;
        else out[key] = parseGroup(v, key, at);
        continue;
      }
      const f = BY_PATH.get(key);
      if (!f) throw new RequestError(at, `unknown hyperparameter ${JSON.stringify(at)}`);
      if (v === null && !f.nullable) throw new RequestError(at, `${at} is required`);
      if (!kindOk(f, v)) throw new RequestError(at, `${at} must be ${kindWords(f)}, got ${shown(v)}`);
      out[key] = v;
    }
    return out as HyperparameterInput;
  },
};

/**
 * `input` over `base`: switching optimizer (or schedule) type starts from that type's defaults,
 * keeping what the input says; fields of another type are dropped. Types are assumed checked
 * (hyperparameterInputSchema); ranges are not (firstRangeProblem after).
 */
export function mergeHyperparameters(base: Hyperparameters, input: HyperparameterInput = {}): Hyperparameters {
  const out: Hyperparameters = structuredClone(base) as Hyperparameters;
  const { optimizer, schedule, augment, earlyStopping, ...scalars } = input;
  for (const [key, value] of Object.entries(scalars)) if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  if (optimizer) {
    const type = optimizer.type ?? out.optimizer.type;
    const start: Record<string, unknown> = type === out.optimizer.type ? { ...out.optimizer } : { ...defaultOptimizer(type) };
    const allowed = defaultOptimizer(type);
    for (const [k, v] of Object.entries(optimizer)) if (v !== undefined && k in allowed) start[k] = v;
    out.optimizer = { ...start, type } as OptimizerOptions;
  }
  if (schedule) {
    const type = schedule.type ?? out.schedule.type;
    const start: Record<string, unknown> = type === out.schedule.type ? { ...out.schedule } : { ...defaultSchedule(type) };
    const allowed = defaultSchedule(type);
    for (const [k, v] of Object.entries(schedule)) if (v !== undefined && k in allowed) start[k] = v;
    out.schedule = { ...start, type } as ScheduleOptions;
  }
  if (augment) out.augment = { ...out.augment, ...Object.fromEntries(Object.entries(augment).filter(([, v]) => v !== undefined)) };
  if (earlyStopping === null) out.earlyStopping = null;
  else if (earlyStopping) {
    out.earlyStopping = { ...(out.earlyStopping ?? defaultEarlyStopping()), ...Object.fromEntries(Object.entries(earlyStopping).filter(([, v]) => v !== undefined)) } as EarlyStoppingOptions;
  }
  return out;
}

/** `over` on top of `base`, both partial (a template's recommendation under the CLI's flags): a
 *  group whose type `over` switches is `over`'s alone, so no field of the other type leaks in. */
export function overlayHyperparameters(base: HyperparameterInput, over: HyperparameterInput): HyperparameterInput {
  const out: Record<string, unknown> = { ...base, ...over };
  for (const group of GROUPS) {
    const a = base[group] as Record<string, unknown> | null | undefined;
    const b = over[group] as Record<string, unknown> | null | undefined;
    if (b === null || !a || !b) continue;
    out[group] = b.type !== undefined && a.type !== undefined && b.type !== a.type ? b : { ...a, ...b };
  }
  return out as HyperparameterInput;
}
