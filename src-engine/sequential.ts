/**
 * The seed's builder (`addconv`, `addmaxpool`, `addflatt`, `fit`, `predict`), camel-cased and
 * mended: the input shape is given once, on the first layer; the class count comes from the data's
 * declared classes (not from the labels that happen to be present); `fit` again continues training
 * the same weights; the model can be saved.
 */
import type { Kernels } from './kernels/types.js';
import { denseActivation } from './layers/dense.js';
import { buildModel, InputError, type Model } from './model.js';
import type { OptimizerConfig } from './optimizers/index.js';
import type { ScheduleConfig } from './schedules.js';
import { saveModel } from './serialize.js';
import { inferShapes } from './shapes.js';
import type { LayerSpec, ModelSpec, Pair } from './spec.js';
import { Trainer, type BatchEvent, type EarlyStoppingConfig, type EpochMetrics } from './train.js';
import type { AugmentConfig, Dataset } from './data.js';

export interface FitOptions {
  /** The number of classes the labels are drawn from. Required on the first fit unless the last
   *  layer added is already the dense head. */
  classes?: number;
  learningRate?: number;
  epochs?: number;
  batchSize?: number;
  /** 'sgd' (default, momentum 0.9) or 'adam', or a full optimizer config. */
  optimizer?: 'sgd' | 'adam' | OptimizerConfig;
  schedule?: ScheduleConfig;
  seed?: number;
  shuffle?: boolean;
  validation?: { x: Float32Array | Uint8Array; y: ArrayLike<number> };
  earlyStopping?: EarlyStoppingConfig;
  augment?: AugmentConfig;
  onBatch?: (e: BatchEvent) => void;
  onEpoch?: (m: EpochMetrics) => void;
}

export interface FitHistory {
  epochs: EpochMetrics[];
  stopReason: Trainer['stopReason'];
  bestEpoch: number;
}

/** Trains `model` on (x, y): a thin loop over a fresh Trainer. */
export function fit(model: Model, x: Float32Array | Uint8Array, y: ArrayLike<number>, options: FitOptions = {}): FitHistory {
  const n = Math.floor(x.length / model.inputSize);
  const lr = options.learningRate ?? 0.01;
  const optimizer: OptimizerConfig =
    typeof options.optimizer === 'object' ? options.optimizer :
    options.optimizer === 'adam' ? { type: 'adam', learningRate: lr } : { type: 'sgd', learningRate: lr, momentum: 0.9 };
  const train: Dataset = { images: x, labels: y, n };
  const validation: Dataset | undefined = options.validation
    ? { images: options.validation.x, labels: options.validation.y, n: Math.floor(options.validation.x.length / model.inputSize) }
    : undefined;
  const trainer = new Trainer(model, train, {
    epochs: options.epochs ?? 1,
    batchSize: options.batchSize ?? 32,
    optimizer,
    schedule: options.schedule,
    seed: options.seed,
    shuffle: options.shuffle,
    earlyStopping: options.earlyStopping,
    augment: options.augment,
  }, validation);
  trainer.run({ onBatch: options.onBatch, onEpoch: options.onEpoch });
  return { epochs: trainer.history, stopReason: trainer.stopReason, bestEpoch: trainer.bestEpoch };
}

export class Sequential {
  private inputShape: [number, number, number] | null = null;
  private readonly layers: LayerSpec[] = [];
  private model: Model | null = null;
  private fits = 0;

  constructor(private readonly options: { seed?: number; kernels?: Kernels } = {}) {}

  private add(layer: LayerSpec): this {
    if (this.model) throw new InputError('the model is already built (fit was called); create a new Sequential to change layers');
    this.layers.push(layer);
    return this;
  }

  /** A conv + ReLU layer; the input shape [H, W, C] only on the first layer. */
  addConv(nKernels: number, kernelSize: Pair, inputShape?: [number, number, number], stride: Pair = 1,
    extra: { padding?: 'valid' | 'same'; activation?: 'relu' | 'linear' } = {}): this {
    if (inputShape) {
      if (this.layers.length > 0) throw new InputError('inputShape is only given on the first layer');
      this.inputShape = inputShape;
    }
    return this.add({ type: 'conv2d', filters: nKernels, kernelSize, stride, ...extra });
  }

  addMaxPool(poolSize: Pair, stride?: Pair): this {
    return this.add({ type: 'maxpool2d', poolSize, ...(stride === undefined ? {} : { stride }) });
  }

  addFlatten(): this {
    return this.add({ type: 'flatten' });
  }

  addDense(units: number, activation?: 'relu' | 'linear' | 'softmax'): this {
    return this.add({ type: 'dense', units, ...(activation ? { activation } : {}) });
  }

  addDropout(rate: number): this {
    return this.add({ type: 'dropout', rate });
  }

  /** The spec as built so far, with the softmax head for `classes` appended when it is missing. */
  toSpec(classes?: number): ModelSpec {
    if (!this.inputShape) throw new InputError('give inputShape on the first layer (addConv(n, k, [H, W, C]))');
    const layers = this.layers.map((l) => ({ ...l })) as LayerSpec[];
    const last = layers[layers.length - 1];
    const hasHead = last?.type === 'dense' && denseActivation(last, true) === 'softmax';
    if (hasHead) {
      if (classes !== undefined && last.units !== classes) {
        throw new InputError(`the last dense layer has ${last.units} units but the data declares ${classes} classes`);
      }
    } else {
      if (classes === undefined) throw new InputError('fit needs options.classes (the number of classes the labels come from) to add the softmax head');
      // shape inference reports the layers' shapes even though the head is still missing
      const out = inferShapes({ inputShape: this.inputShape, layers }).layers[layers.length - 1]?.outputShape;
      if (!out || out[0] !== 1 || out[1] !== 1) layers.push({ type: 'flatten' });
      layers.push({ type: 'dense', units: classes, activation: 'softmax' });
    }
    return { inputShape: this.inputShape, layers };
  }

  /** The built model (after the first fit). */
  get built(): Model | null {
    return this.model;
  }

  /** Trains; a second call continues from the current weights (with a fresh optimizer state). */
  fit(x: Float32Array | Uint8Array, y: ArrayLike<number>, options: FitOptions = {}): FitHistory {
    if (!this.model) this.model = buildModel(this.toSpec(options.classes), this.options);
    else if (options.classes !== undefined && options.classes !== this.model.classes) {
      throw new InputError(`the model was built for ${this.model.classes} classes, the data declares ${options.classes}`);
    }
    const seed = options.seed ?? (this.options.seed ?? 0) + this.fits;
    this.fits++;
    return fit(this.model, x, y, { ...options, seed });
  }

  /** n × classes probabilities. */
  predict(x: Float32Array | Uint8Array): Float32Array {
    if (!this.model) throw new InputError('predict before fit: the model has no weights yet');
    const n = Math.floor(x.length / this.model.inputSize);
    const xs = x instanceof Uint8Array ? Float32Array.from(x, (v) => v / 255) : x;
    return this.model.predict(xs, n);
  }

  /** The most probable class of each image. */
  predictClasses(x: Float32Array | Uint8Array): Int32Array {
    const p = this.predict(x);
    const k = this.model!.classes;
    const out = new Int32Array(p.length / k);
    for (let i = 0; i < out.length; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + best]!) best = j;
      out[i] = best;
    }
    return out;
  }

  save(): Uint8Array {
    if (!this.model) throw new InputError('save before fit: the model has no weights yet');
    return saveModel(this.model);
  }
}
