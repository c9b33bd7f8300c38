/**
 * The resumable Trainer: mini-batch training whose whole state — weights and statistics, optimizer
 * moments, the three RNG streams (shuffle, augmentation, dropout), the position in the epoch and its
 * shuffle order, early-stopping and reduce-on-plateau bookkeeping — serializes to bytes, so that stopping anywhere between two batches and
 * restoring gives bit-identical weights to the run that never stopped.
 */
import { augmentBatch, checkDataset, evaluateDataset, gatherBatch, type AugmentConfig, type Dataset } from './data.js';
import type { Kernels } from './kernels/types.js';
import { buildModel, InputError, type Model } from './model.js';
import type { NonFiniteStep } from './inspect/findings.js';
import { firstNonFinite } from './inspect/health.js';
import { checkOptimizerConfig, createOptimizer, type Optimizer, type OptimizerConfig } from './optimizers/index.js';
import { Rng } from './rng.js';
import { checkSchedule, initialPlateau, learningRateAt, plateauAfterEpoch, type PlateauState, type ScheduleConfig } from './schedules.js';
import { ModelFormatError } from './serialize.js';
import { readTrainerState, writeTrainerState } from './trainer-state.js';

export interface EarlyStoppingConfig {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Default 'valLoss' when there is validation data, else 'trainLoss'. */
  monitor?: 'valLoss' | 'valAccuracy' | 'trainLoss';
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule?: ScheduleConfig;
  /** Seeds shuffling and augmentation. Default 0. */
  seed?: number;
  /** Default true. */
  shuffle?: boolean;
  earlyStopping?: EarlyStoppingConfig;
  augment?: AugmentConfig;
  /** PyTorch's label_smoothing ε for the training loss, in [0, 1): the target is (1 − ε)·onehot +
   *  ε/classes. Validation and evaluation losses are the plain cross-entropy. Default 0. */
  labelSmoothing?: number;
}

export interface BatchEvent {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  /** Set on the last batch of an epoch. */
  epochEnd?: EpochMetrics;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  learningRate: number;
  imagesPerSecond: number;
  /** Training time of this epoch (validation excluded). */
  seconds: number;
  /** The monitored metric improved: this epoch is the best so far. */
  improved: boolean;
}

export type StopReason = 'completed' | 'early-stopped' | 'stopped' | 'failed';

export class TrainingError extends Error {
  constructor(readonly code: 'nan_loss' | 'bad_config' | 'bad_state', message: string, readonly nonFinite?: NonFiniteStep) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** What a step trained on, for whoever watches it (training health): read it, change nothing. */
export interface StepView {
  event: BatchEvent;
  /** The batch as the gradient saw it (augmented), n images. */
  x: Float32Array;
  labels: Int32Array;
  n: number;
  /** The values before this step's update; model.values holds them after, model.grads the batch's gradient. */
  before: Float32Array;
}

export interface GradientOptions {
  labelSmoothing?: number;
}

/** Computes a batch's mean loss and writes (overwrites) model.grads, in training mode: the model's
 *  statistics (batch norm's running ones) are updated once from the batch. The default is the
 *  model's own lossAndGradients; a data-parallel implementation shards the batch over workers. */
export interface GradientComputer {
  compute(model: Model, x: Float32Array, labels: Int32Array, n: number, options?: GradientOptions): { loss: number; correct: number };
}

export const localGradients: GradientComputer = {
  compute(model, x, labels, n, options = {}) {
    const r = model.lossAndGradients(x, labels, n, { inputGradient: false, validate: false, labelSmoothing: options.labelSmoothing });
    return { loss: r.loss, correct: r.correct };
  },
};

export interface TrainerOptions {
  gradients?: GradientComputer;
  /** Called after every step, before the epoch's validation; it must not change the model
   *  (training health measures here: a forward pass in inference mode draws no randomness). */
  afterStep?: (step: StepView) => void;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function checkTrainConfig(config: TrainConfig): string | null {
  if (!config || typeof config !== 'object') return 'training config is missing';
  if (!Number.isInteger(config.epochs) || config.epochs < 1) return `epochs must be a positive integer, got ${config.epochs}`;
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) return `batch size must be a positive integer, got ${config.batchSize}`;
  const opt = checkOptimizerConfig(config.optimizer);
  if (opt) return opt;
  const sch = checkSchedule(config.schedule);
  if (sch) return sch;
  const warmup = config.schedule?.warmupEpochs ?? 0;
  if (warmup >= config.epochs) return `warm-up of ${warmup} epochs leaves none of the ${config.epochs} for the schedule`;
  const ls = config.labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls < 1)) return `label smoothing must be in [0, 1), got ${ls}`;
  const es = config.earlyStopping;
  if (es) {
    if (!Number.isInteger(es.patience) || es.patience < 1) return `early stopping patience must be a positive integer, got ${es.patience}`;
    if (es.monitor && !['valLoss', 'valAccuracy', 'trainLoss'].includes(es.monitor)) return `early stopping monitor must be valLoss, valAccuracy or trainLoss, got ${es.monitor}`;
  }
  const shift = config.augment?.maxShift ?? 0;
  if (!Number.isInteger(shift) || shift < 0) return `augmentation shift must be a non-negative integer, got ${shift}`;
  return null;
}

export class Trainer {
  readonly model: Model;
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  /** Completed epochs. */
  epoch = 0;
  /** Next batch within the current epoch. */
  batch = 0;
  step_ = 0;
  done = false;
  stopReason: StopReason | null = null;
  history: EpochMetrics[] = [];
  bestEpoch = -1;
  private bestMetric = NaN;
  private wait = 0;
  private plateau: PlateauState = initialPlateau();
  private bestValues: Float32Array;
  private readonly shuffleRng: Rng;
  private readonly augmentRng: Rng;
  private order: Uint32Array;
  private orderEpoch = -1;
  private lossSum = 0;
  private correctSum = 0;
  private seen = 0;
  private epochSeconds = 0;
  private readonly xBatch: Float32Array;
  private readonly yBatch: Int32Array;
  private readonly augTmp: Float32Array;
  private readonly prevValues: Float32Array;
  private readonly gradients: GradientComputer;
  private readonly afterStep?: (step: StepView) => void;

  constructor(model: Model, readonly train: Dataset, config: TrainConfig, readonly validation?: Dataset, options: TrainerOptions = {}) {
    const problem = checkTrainConfig(config);
    if (problem) throw new TrainingError('bad_config', problem);
    checkDataset('training', train, model.inputSize, model.classes);
    if (validation) checkDataset('validation', validation, model.inputSize, model.classes);
    if (config.earlyStopping?.monitor?.startsWith('val') && !validation) {
      throw new TrainingError('bad_config', `early stopping monitors ${config.earlyStopping.monitor} but there is no validation data`);
    }
    if (config.schedule?.type === 'plateau' && !validation) {
      throw new TrainingError('bad_config', 'reduce-on-plateau watches the validation loss, but there is no validation data');
    }
    this.model = model;
    this.config = structuredClone(config);
    this.optimizer = createOptimizer(config.optimizer, model.trainable.length, model.kernels);
    const seed = config.seed ?? 0;
    this.shuffleRng = new Rng(seed);
    this.augmentRng = new Rng((seed ^ 0x2545f491) >>> 0);
    this.order = new Uint32Array(train.n);
    const bs = Math.min(config.batchSize, train.n);
    this.xBatch = new Float32Array(bs * model.inputSize);
    this.yBatch = new Int32Array(bs);
    this.augTmp = new Float32Array(model.inputSize);
    this.prevValues = new Float32Array(model.values.length);
    this.bestValues = new Float32Array(model.values.length);
    this.gradients = options.gradients ?? localGradients;
    this.afterStep = options.afterStep;
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.train.n / this.config.batchSize);
  }

  get stepCount(): number {
    return this.step_;
  }

  /** The learning rate of the next step. */
  get learningRate(): number {
    return learningRateAt(this.config.schedule, this.config.optimizer.learningRate, {
      epoch: this.epoch, epochs: this.config.epochs, batch: this.batch, batchesPerEpoch: this.batchesPerEpoch, plateauScale: this.plateau.scale,
    });
  }

  /** The metric the best epoch is chosen by (and early stopping watches). */
  monitor(): 'valLoss' | 'valAccuracy' | 'trainLoss' {
    return this.config.earlyStopping?.monitor ?? (this.validation ? 'valLoss' : 'trainLoss');
  }

  /** One mini-batch: forward, backward, update. Null once training is over. */
  step(): BatchEvent | null {
    if (this.done) return null;
    const t0 = now();
    const n = this.train.n;
    if (this.orderEpoch !== this.epoch) {
      for (let i = 0; i < n; i++) this.order[i] = i;
      if (this.config.shuffle ?? true) this.shuffleRng.shuffle(this.order);
      this.orderEpoch = this.epoch;
    }
    const bs = this.config.batchSize;
    const start = this.batch * bs;
    const m = Math.min(bs, n - start);
    const model = this.model;
    const x = this.xBatch.subarray(0, m * model.inputSize);
    const y = this.yBatch.subarray(0, m);
    gatherBatch(this.train, this.order, start, m, model.inputSize, x, y);
    const aug = this.config.augment;
    if (aug && (aug.flipHorizontal || (aug.maxShift ?? 0) > 0)) {
      const [h, w, c] = model.spec.inputShape;
      augmentBatch(aug, this.augmentRng, x, m, h, w, c, this.augTmp);
    }
    const lr = this.learningRate;
    const { loss, correct } = this.gradients.compute(model, x, y, m, { labelSmoothing: this.config.labelSmoothing });
    if (!Number.isFinite(loss)) {
      // Which layer went non-finite first, with the weights that produced this loss; then back to
      // the ones before the last update, which did not.
      const layer = firstNonFinite(model, x, m);
      const where = layer ? `${layer.label}'s ${layer.what} went non-finite first` : 'every layer\'s output was finite: the loss itself overflowed';
      if (this.step_ > 0) model.values.set(this.prevValues);
      this.done = true;
      this.stopReason = 'failed';
      throw new TrainingError('nan_loss',
        `loss became ${loss} at epoch ${this.epoch + 1}, batch ${this.batch + 1} (${where}); the weights are kept at the last finite loss (try a lower learning rate)`,
        { step: this.step_ + 1, epoch: this.epoch + 1, batch: this.batch + 1, loss, layer });
    }
    this.prevValues.set(model.values);
    this.optimizer.step(model.trainable, model.grads, lr);
    this.step_++;
    this.lossSum += loss * m;
    this.correctSum += correct;
    this.seen += m;
    this.epochSeconds += (now() - t0) / 1000;
    const event: BatchEvent = {
      epoch: this.epoch, batch: this.batch, batchesPerEpoch: this.batchesPerEpoch, step: this.step_,
      loss, accuracy: correct / m, learningRate: lr,
    };
    this.afterStep?.({ event, x, labels: y, n: m, before: this.prevValues });
    this.batch++;
    if (this.batch >= this.batchesPerEpoch) event.epochEnd = this.endEpoch(lr);
    return event;
  }

  private endEpoch(lr: number): EpochMetrics {
    let valLoss: number | null = null;
    let valAccuracy: number | null = null;
    if (this.validation) {
      // the batch buffers are free between two steps
      const r = evaluateDataset(this.model, this.validation, this.xBatch, this.yBatch);
      valLoss = r.loss;
      valAccuracy = r.accuracy;
    }
    const metrics: EpochMetrics = {
      epoch: this.epoch,
      trainLoss: this.lossSum / this.seen,
      trainAccuracy: this.correctSum / this.seen,
      valLoss, valAccuracy, learningRate: lr,
      imagesPerSecond: this.seen / Math.max(this.epochSeconds, 1e-9),
      seconds: this.epochSeconds,
      improved: false,
    };
    if (valLoss !== null) this.plateau = plateauAfterEpoch(this.config.schedule, this.plateau, this.epoch, valLoss);
    const monitor = this.monitor();
    const value = monitor === 'valLoss' ? valLoss! : monitor === 'valAccuracy' ? valAccuracy! : metrics.trainLoss;
    const minDelta = this.config.earlyStopping?.minDelta ?? 0;
    const better = Number.isNaN(this.bestMetric) ||
      (monitor === 'valAccuracy' ? value > this.bestMetric + minDelta : value < this.bestMetric - minDelta);
    if (better) {
      this.bestMetric = value;
      this.bestEpoch = this.epoch;
      this.bestValues.set(this.model.values);
      this.wait = 0;
      metrics.improved = true;
    } else {
      this.wait++;
    }
    this.history.push(metrics);
    this.epoch++;
    this.batch = 0;
    this.lossSum = 0;
    this.correctSum = 0;
    this.seen = 0;
    this.epochSeconds = 0;
    const es = this.config.earlyStopping;
    if (es && this.wait >= es.patience) {
      this.model.values.set(this.bestValues);
      this.done = true;
      this.stopReason = 'early-stopped';
    } else if (this.epoch >= this.config.epochs) {
      this.done = true;
      this.stopReason = 'completed';
    }
    return metrics;
  }

  /** Runs to the end of the current epoch (from wherever it is). */
  runEpoch(onBatch?: (e: BatchEvent) => void): EpochMetrics | null {
    while (!this.done) {
      const e = this.step()!;
      onBatch?.(e);
      if (e.epochEnd) return e.epochEnd;
    }
    return null;
  }

  /** Trains until done, or until shouldStop() says so between two batches (then stopReason 'stopped'). */
  run(hooks: { onBatch?: (e: BatchEvent) => void; onEpoch?: (m: EpochMetrics) => void; shouldStop?: () => boolean } = {}): EpochMetrics[] {
    while (!this.done) {
      if (hooks.shouldStop?.()) {
        this.stopReason = 'stopped';
        break;
      }
      const e = this.step()!;
      hooks.onBatch?.(e);
      if (e.epochEnd) hooks.onEpoch?.(e.epochEnd);
    }
    return this.history;
  }

  /** The whole state as bytes (trainer-state.ts). */
  saveState(): Uint8Array {
    return writeTrainerState({
      spec: this.model.spec,
      config: this.config,
      epoch: this.epoch, batch: this.batch, step: this.step_, done: this.done, stopReason: this.stopReason,
      optimizerSteps: this.optimizer.stepCount,
      orderEpoch: this.orderEpoch,
      bestEpoch: this.bestEpoch, bestMetric: Number.isNaN(this.bestMetric) ? null : this.bestMetric, wait: this.wait,
      plateau: this.plateau,
      lossSum: this.lossSum, correctSum: this.correctSum, seen: this.seen, epochSeconds: this.epochSeconds,
      history: this.history,
      trainN: this.train.n,
      weights: this.model.values as Float32Array,
      bestWeights: this.bestValues,
      prevWeights: this.prevValues,
      order: this.order,
      shuffleRng: this.shuffleRng.getState(),
      augmentRng: this.augmentRng.getState(),
      dropoutRng: this.model.dropoutRng.getState(),
      optimizer: this.optimizer.buffers(),
    });
  }

  /** Rebuilds the model from the spec inside the state and continues exactly where it stopped. */
  static restore(bytes: Uint8Array, train: Dataset, validation?: Dataset, options: TrainerOptions & { kernels?: Kernels } = {}): Trainer {
    const s = readTrainerState(bytes);
    if (s.trainN !== train.n) throw new TrainingError('bad_state', `trainer state was saved for ${s.trainN} training images, got ${train.n}`);
    const model = buildModel(s.spec, { kernels: options.kernels });
    model.values.set(s.weights);
    const t = new Trainer(model, train, s.config, validation, options);
    t.epoch = s.epoch;
    t.batch = s.batch;
    t.step_ = s.step;
    t.done = s.done;
    // a stop request ends an attempt, not the run: the restored trainer goes on
    t.stopReason = s.stopReason === 'stopped' ? null : s.stopReason;
    t.optimizer.stepCount = s.optimizerSteps;
    t.orderEpoch = s.orderEpoch;
    t.bestEpoch = s.bestEpoch;
    t.bestMetric = s.bestMetric === null ? NaN : s.bestMetric;
    t.wait = s.wait;
    t.plateau = s.plateau;
    t.lossSum = s.lossSum;
    t.correctSum = s.correctSum;
    t.seen = s.seen;
    t.epochSeconds = s.epochSeconds;
    t.history = s.history;
    t.bestValues.set(s.bestWeights);
    t.prevValues.set(s.prevWeights);
    t.order.set(s.order);
    t.shuffleRng.setState(s.shuffleRng);
    t.augmentRng.setState(s.augmentRng);
    model.dropoutRng.setState(s.dropoutRng);
    for (const [name, buf] of Object.entries(t.optimizer.buffers())) {
      const saved = s.optimizer[name];
      if (!saved || saved.length !== buf.length) throw new ModelFormatError(`trainer state is corrupt: optimizer buffer ${name} is missing or the wrong size`);
      buf.set(saved);
    }
    return t;
  }
}

export { InputError };
