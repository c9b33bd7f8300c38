/**
 * The hyperparameter forms (the builder's, the fork's), drawn from the contract's table: labels,
 * defaults, ranges and help come from HYPERPARAMETER_FIELDS; only which field sits in which group
 * is said here. Values are read and written by the table's dotted paths.
 */
import {
  appliedFields, defaultEarlyStopping, defaultOptimizer, defaultSchedule, HYPERPARAMETER_FIELDS,
  type HyperparameterField, type Hyperparameters, type OptimizerType, type ScheduleType,
} from '../../../src-main/contract/index.js';

export interface FieldGroup {
  title: string;
  paths: readonly string[];
  /** A group that is a nullable object (early stopping): a checkbox turns it on with its defaults. */
  toggle?: 'earlyStopping';
}

/** Every field of the table, once (a unit test holds this to the table). */
export const RUN_FORM_GROUPS: readonly FieldGroup[] = [
  { title: 'Training', paths: ['epochs', 'batchSize', 'seed', 'labelSmoothing'] },
  {
    title: 'Optimizer',
    paths: ['optimizer.type', 'optimizer.learningRate', 'optimizer.momentum', 'optimizer.nesterov', 'optimizer.beta1', 'optimizer.beta2', 'optimizer.epsilon', 'optimizer.weightDecay'],
  },
  { title: 'Learning-rate schedule', paths: ['schedule.type', 'warmupEpochs', 'schedule.stepSize', 'schedule.gamma', 'schedule.minLearningRate', 'schedule.factor', 'schedule.patience', 'schedule.threshold'] },
  { title: 'Data', paths: ['validationSplit', 'trainLimit', 'augment.maxShift', 'augment.flipHorizontal'] },
  { title: 'Early stopping', paths: ['earlyStopping.patience', 'earlyStopping.minDelta', 'earlyStopping.monitor'], toggle: 'earlyStopping' },
  { title: 'Compute', paths: ['kernels', 'threads', 'progressEvery', 'snapshotMinutes', 'healthEvery'] },
];

/** What a fork usually changes; the rest it inherits from its parent. */
export const FORK_FORM_GROUPS: readonly FieldGroup[] = [
  { title: 'Continue with', paths: ['epochs', 'batchSize', 'optimizer.type', 'optimizer.learningRate', 'optimizer.momentum', 'trainLimit', 'augment.maxShift', 'augment.flipHorizontal'] },
];

/** The fields of `paths` that apply to these hyperparameters (momentum only for sgd, …), in order. */
export function shownFields(h: Hyperparameters, paths: readonly string[]): HyperparameterField[] {
  const applied = new Set(appliedFields(h).map((a) => a.field.path));
  return paths.filter((p) => applied.has(p)).map((p) => HYPERPARAMETER_FIELDS.find((f) => f.path === p)!);
}

export function valueAt(h: Hyperparameters, path: string): unknown {
  let v: unknown = h;
  for (const key of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Sets one field; a new optimizer or schedule type starts from that type's defaults, as the service does. */
export function setValueAt(h: Hyperparameters, path: string, value: unknown): void {
  if (path === 'optimizer.type') {
    h.optimizer = defaultOptimizer(value as OptimizerType);
    return;
  }
  if (path === 'schedule.type') {
    h.schedule = defaultSchedule(value as ScheduleType);
    return;
  }
  const keys = path.split('.');
  let target = h as unknown as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[keys[keys.length - 1]!] = value;
}

export function setEarlyStopping(h: Hyperparameters, on: boolean): void {
  h.earlyStopping = on ? defaultEarlyStopping() : null;
}

/** The form field a service error names: request paths read 'hyperparameters.batchSize', range checks 'batchSize'. */
export function formField(field: string | undefined): string | null {
  if (field === undefined) return null;
  return field.startsWith('hyperparameters.') ? field.slice('hyperparameters.'.length) : field;
}

/** A field is marked when the refusal names it or the group it is in ('optimizer' marks every optimizer field). */
export function isNamed(invalidField: string | null, path: string): boolean {
  return invalidField !== null && (invalidField === path || path.startsWith(invalidField + '.'));
}

export const labelText = (f: HyperparameterField) => f.label[0]!.toUpperCase() + f.label.slice(1);
