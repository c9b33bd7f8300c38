/**
 * Hyperparameters: the defaults, the merge of a caller's partial input over a base (new run or
 * fork), and the range checks that refuse a run before any row exists.
 */
import { checkTrainConfig, type TrainConfig } from '../../src-engine/index.js';
import type { HyperparameterInput, Hyperparameters, OptimizerOptions } from '../contract.js';
import { ServiceError } from './errors.js';

export const DEFAULT_HYPERPARAMETERS: Hyperparameters = {
  epochs: 5,
  batchSize: 32,
  optimizer: { type: 'sgd', learningRate: 0.01, momentum: 0.9 },
  schedule: { type: 'constant' },
  seed: 0,
  validationSplit: 0.1,
  earlyStopping: null,
  augment: { flipHorizontal: false, maxShift: 0 },
  trainLimit: null,
  kernels: 'fast',
  threads: 2,
  progressEvery: 10,
};

const OPTIMIZER_DEFAULTS: Record<'sgd' | 'adam', OptimizerOptions> = {
  sgd: { type: 'sgd', learningRate: 0.01, momentum: 0.9 },
  adam: { type: 'adam', learningRate: 0.001 },
};

/** `input` over `base`; switching optimizer type starts from that optimizer's defaults (keeping an explicit lr). */
export function mergeHyperparameters(base: Hyperparameters, input: HyperparameterInput = {}): Hyperparameters {
  if (input === null || typeof input !== 'object') throw new ServiceError('invalid_hyperparameters', 'hyperparameters must be an object');
  const out: Hyperparameters = structuredClone(base);
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key === 'optimizer' || key === 'augment') continue;
    if (!(key in DEFAULT_HYPERPARAMETERS)) throw new ServiceError('invalid_hyperparameters', `unknown hyperparameter ${JSON.stringify(key)}`, { field: key });
    (out as unknown as Record<string, unknown>)[key] = structuredClone(value);
  }
  if (input.optimizer) {
    const type = input.optimizer.type ?? out.optimizer.type;
    if (type !== 'sgd' && type !== 'adam') throw new ServiceError('invalid_hyperparameters', `optimizer must be 'sgd' or 'adam', got ${JSON.stringify(type)}`, { field: 'optimizer.type' });
    const start = type === out.optimizer.type ? out.optimizer : OPTIMIZER_DEFAULTS[type];
    const merged = { ...start, ...dropUndefined(input.optimizer), type } as OptimizerOptions;
    out.optimizer = merged;
  }
  if (input.augment) out.augment = { ...out.augment, ...dropUndefined(input.augment) };
  return out;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function refuse(field: string, message: string): never {
  throw new ServiceError('invalid_hyperparameters', message, { field });
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Throws ServiceError('invalid_hyperparameters') naming the field and the value. `imageSize` is the
 * dataset's [H, W] (shifts must leave some image); `trainCount` its training images.
 */
export function checkHyperparameters(h: Hyperparameters, dataset: { shape: [number, number, number]; trainCount: number }): void {
  if (!isInt(h.epochs) || h.epochs < 1 || h.epochs > 100_000) refuse('epochs', `epochs must be an integer from 1 to 100000, got ${h.epochs}`);
  if (!isInt(h.batchSize) || h.batchSize < 1 || h.batchSize > 65_536) refuse('batchSize', `batch size must be an integer from 1 to 65536, got ${h.batchSize}`);
  const lr = h.optimizer?.learningRate;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) refuse('optimizer.learningRate', `learning rate must be a positive number, got ${lr}`);
  if (!isInt(h.seed) || h.seed < 0 || h.seed > 0xffffffff) refuse('seed', `seed must be an integer from 0 to 4294967295, got ${h.seed}`);
  const v = h.validationSplit;
  if (typeof v !== 'number' || !(v >= 0 && v <= 0.9)) refuse('validationSplit', `validation split must be a fraction from 0 to 0.9, got ${v}`);
  if (h.trainLimit !== null && (!isInt(h.trainLimit) || h.trainLimit < 1)) refuse('trainLimit', `train limit must be a positive integer or null, got ${h.trainLimit}`);
  const validationCount = Math.round(dataset.trainCount * v);
  if (v > 0 && validationCount < 1) refuse('validationSplit', `validation split ${v} of ${dataset.trainCount} images leaves no validation image`);
  if (dataset.trainCount - validationCount < 1) refuse('validationSplit', `validation split ${v} leaves no training image`);
  if (h.kernels !== 'fast' && h.kernels !== 'reference') refuse('kernels', `kernels must be 'fast' or 'reference', got ${JSON.stringify(h.kernels)}`);
  if (!isInt(h.threads) || h.threads < 1 || h.threads > 64) refuse('threads', `threads must be an integer from 1 to 64, got ${JSON.stringify(h.threads)}`);
  if (!isInt(h.progressEvery) || h.progressEvery < 1) refuse('progressEvery', `progressEvery must be a positive integer (batches), got ${h.progressEvery}`);
  if (!h.augment || typeof h.augment.flipHorizontal !== 'boolean') refuse('augment.flipHorizontal', `augment.flipHorizontal must be true or false, got ${JSON.stringify(h.augment?.flipHorizontal)}`);
  const shift = h.augment.maxShift;
  const maxAllowed = Math.floor(Math.min(dataset.shape[0], dataset.shape[1]) / 2);
  if (!isInt(shift) || shift < 0 || shift > maxAllowed) refuse('augment.maxShift', `augmentation shift must be an integer from 0 to ${maxAllowed} pixels for ${dataset.shape[0]}×${dataset.shape[1]} images, got ${shift}`);
  const es = h.earlyStopping;
  if (es !== null) {
    if (typeof es !== 'object' || !isInt(es.patience) || es.patience < 1) refuse('earlyStopping.patience', `early stopping patience must be a positive integer, got ${JSON.stringify(es?.patience)}`);
    if (es.monitor?.startsWith('val') && v === 0) refuse('earlyStopping.monitor', `early stopping monitors ${es.monitor} but the validation split is 0`);
  }
  // The engine's own checks (optimizer details, schedule) with the engine's words.
  const problem = checkTrainConfig(toTrainConfig(h));
  if (problem) refuse('config', problem);
}

export function toTrainConfig(h: Hyperparameters): TrainConfig {
  const config: TrainConfig = {
    epochs: h.epochs,
    batchSize: h.batchSize,
    optimizer: { ...h.optimizer },
    schedule: h.schedule,
    seed: h.seed,
    shuffle: true,
    augment: { flipHorizontal: h.augment.flipHorizontal, maxShift: h.augment.maxShift },
  };
  if (h.earlyStopping) config.earlyStopping = { ...h.earlyStopping };
  return config;
}
