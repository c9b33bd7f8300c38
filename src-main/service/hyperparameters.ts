/**
 * The service's side of the hyperparameter table (contract/hyperparameters.ts): the checks that
 * refuse a run before any row exists — every field's range from the table, then what depends on
 * the dataset, then the engine's own check — and the TrainConfig the engine gets.
 */
import { checkTrainConfig, type TrainConfig } from '../../src-engine/index.js';
import { firstRangeProblem, hyperparameterField, type Hyperparameters } from '../contract/index.js';
import { ServiceError } from './errors.js';

function refuse(field: string, message: string): never {
  throw new ServiceError('invalid_hyperparameters', message, { field });
}

/**
 * Throws ServiceError('invalid_hyperparameters') naming the field and the value. `dataset` gives
 * the image shape (shifts must leave some image) and the training image count (the split must
 * leave images on both sides).
 */
export function checkHyperparameters(h: Hyperparameters, dataset: { shape: [number, number, number]; trainCount: number }): void {
  const problem = firstRangeProblem(h);
  if (problem) refuse(problem.field, problem.message);
  const v = h.validationSplit;
  const validationCount = Math.round(dataset.trainCount * v);
  if (v > 0 && validationCount < 1) refuse('validationSplit', `validation split ${v} of ${dataset.trainCount} images leaves no validation image`);
  if (dataset.trainCount - validationCount < 1) refuse('validationSplit', `validation split ${v} leaves no training image`);
  const maxShift = Math.floor(Math.min(dataset.shape[0], dataset.shape[1]) / 2);
  if (h.augment.maxShift > maxShift) {
    refuse('augment.maxShift', `${hyperparameterField('augment.maxShift').label} must be an integer from 0 to ${maxShift} pixels for ${dataset.shape[0]}×${dataset.shape[1]} images, got ${h.augment.maxShift}`);
  }
  const es = h.earlyStopping;
  if (es && es.monitor.startsWith('val') && v === 0) refuse('earlyStopping.monitor', `early stopping monitors ${es.monitor} but the validation split is 0`);
  if (h.schedule.type === 'plateau' && v === 0) refuse('schedule.type', 'the plateau schedule watches the validation loss but the validation split is 0');
  if (h.warmupEpochs >= h.epochs) refuse('warmupEpochs', `${hyperparameterField('warmupEpochs').label} must be fewer than the ${h.epochs} epochs, got ${h.warmupEpochs}`);
  // The engine's own checks, with the engine's words (a safety net: the table covers them).
  const engineProblem = checkTrainConfig(toTrainConfig(h));
  if (engineProblem) refuse('config', engineProblem);
}

export function toTrainConfig(h: Hyperparameters): TrainConfig {
  const config: TrainConfig = {
    epochs: h.epochs,
    batchSize: h.batchSize,
    optimizer: { ...h.optimizer },
    schedule: { ...h.schedule, ...(h.warmupEpochs > 0 && { warmupEpochs: h.warmupEpochs }) },
    seed: h.seed,
    shuffle: true,
    augment: { flipHorizontal: h.augment.flipHorizontal, maxShift: h.augment.maxShift },
  };
  if (h.earlyStopping) config.earlyStopping = { ...h.earlyStopping };
  if (h.labelSmoothing > 0) config.labelSmoothing = h.labelSmoothing;
  return config;
}
