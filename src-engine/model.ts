/**
 * A built network: the layers, one flat buffer of every value — the parameters, then the statistics
 * (batch norm's running mean and variance) — and one of every parameter's gradient (each a view into
 * them, so a snapshot is one copy), and the fused softmax/cross-entropy head.
 */
import { softmax, softmaxCrossEntropy } from './kernels/activations.js';
import { referenceKernels } from './kernels/reference.js';
import type { Kernels } from './kernels/types.js';
import { isBatchSumLayer, type Layer, type LayerContext, type Param, type Statistic } from './layers/layer.js';
import { layerDefinition } from './layers/registry.js';
import { parameterLayout } from './parameters.js';
import { Rng } from './rng.js';
import { inferShapesOrThrow, layerSite, type ShapeReport } from './shapes.js';
import type { ModelSpec } from './spec.js';
import { allocFloat, ensureCapacity, sizeOf, type DType, type FloatArray } from './tensor.js';

export interface BuildOptions {
  /** Seeds the weight init and the dropout stream. Default 0. */
  seed?: number;
  /** 'float64' is for gradient checks; models train in float32. */
  dtype?: DType;
  /** The kernel set; default the reference loops. */
  kernels?: Kernels;
  /** A values buffer to build over instead of a fresh one (left as it is: no init is drawn into
   *  it). The data-parallel replicas' shard models share one this way. */
  values?: FloatArray;
}

/** What a training pass asks its driver at a batch-sum layer (layers/layer.ts BatchSumLayer). */
export interface BatchSumRequest {
  layerIndex: number;
  phase: 'forward' | 'backward';
  /** This pass's sums; the driver answers with the whole batch's. */
  sums: Float64Array;
}

export interface TrainingPassOptions {
  /** Scales dlogits: 1 / (images in the whole batch), so that the gradient is of the batch's mean loss. */
  lossScale: number;
  /** PyTorch's label_smoothing ε: the target is (1 − ε)·onehot + ε/classes. Default 0. */
  labelSmoothing?: number;
  inputGradient: boolean;
  /** Batch statistics in training mode (dropout on, batch norm over the batch). */
  training: boolean;
  /** Update the running statistics from this pass's batch (the whole batch's model does; shards
   *  of a data-parallel batch do not: the lead updates its model once). */
  updateStatistics: boolean;
}

/** A pass's summed loss, correct count and input gradient; the parameter gradients are in model.grads. */
export interface PassResult {
  lossSum: number;
  correct: number;
  inputGradient: FloatArray | null;
}

export interface LossResult {
  /** Mean softmax cross-entropy over the batch. */
  loss: number;
  /** Rows whose most probable class is the label. */
  correct: number;
  /** dLoss/dx, (n, H, W, C); null when not asked for. */
  inputGradient: FloatArray | null;
}

/** What `classify` gives for n labelled images. */
export interface Classification {
  /** n × classes, float32. */
  probabilities: Float32Array;
  /** Per image, the class of the largest logit (the first one on a tie), which `correct` counts. */
  predicted: Int32Array;
  /** Σ −log p[label] in the log-sum-exp form, exact however confident the model is. */
  lossSum: number;
  correct: number;
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Checks what a caller hands the model; throws before anything is touched. */
export function validateBatch(x: ArrayLike<number>, n: number, inputSize: number, labels: ArrayLike<number> | null, classes: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`batch size must be a positive integer, got ${n}`);
  if (x.length !== n * inputSize) {
    throw new InputError(`input has ${x.length} values, expected ${n} × ${inputSize} = ${n * inputSize}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InputError(`input value #${i} (image ${Math.floor(i / inputSize)}) is ${x[i]}; inputs must be finite`);
  }
  if (labels) {
    if (labels.length !== n) throw new InputError(`got ${labels.length} labels for ${n} images`);
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= classes) throw new InputError(`label #${i} is ${y}; labels must be integers in [0, ${classes})`);
    }
  }
}

export class Model<T extends FloatArray = Float32Array> {
  readonly spec: ModelSpec;
  readonly shapes: ShapeReport;
  readonly dtype: DType;
  readonly classes: number;
  readonly inputSize: number;
  readonly layers: Layer[];
  /** Every value: the parameters, then the statistics. */
  readonly values: T;
  /** The parameters: the first part of `values`, what an optimizer updates. */
  readonly trainable: T;
  /** One gradient per parameter (as long as `trainable`). */
  readonly grads: T;
  readonly dropoutRng: Rng;
  readonly kernels: Kernels;
  /** Whether training passes split at batch-sum layers (batch norm). */
  readonly hasBatchSums: boolean;
  private readonly params: Param<T>[];
  private readonly stats: Statistic<T>[];
  private readonly ctx: LayerContext;
  private readonly firstParamLayer: number;
  /** [i]: layer i runs as one with layer i − 1, forward and backward (Layer.fusesWith). */
  private readonly fusedIntoPrevious: boolean[];
  /** Whether passes run such pairs as one (off inside `unfused`). */
  private fuseLayers = true;
  private probs: FloatArray | null = null;
  private dlogits: FloatArray | null = null;
  private xConv: FloatArray | null = null;

  constructor(spec: ModelSpec, options: BuildOptions = {}) {
    this.shapes = inferShapesOrThrow(spec);
    this.spec = structuredClone(spec);
    this.dtype = options.dtype ?? 'float32';
    this.kernels = options.kernels ?? referenceKernels;
    this.classes = this.shapes.classes!;
    this.inputSize = sizeOf(spec.inputShape);
    const seed = options.seed ?? 0;
    this.dropoutRng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.ctx = { dtype: this.dtype, kernels: this.kernels, dropoutRng: this.dropoutRng };

    const layout = parameterLayout(spec, this.shapes);
    if (options.values) {
      const ok = this.dtype === 'float64' ? options.values instanceof Float64Array : options.values instanceof Float32Array;
      if (!ok || options.values.length !== layout.totalValues) throw new Error(`values buffer must be ${this.dtype} of ${layout.totalValues}`);
    }
    this.values = (options.values ?? allocFloat(this.dtype, layout.totalValues)) as T;
    this.trainable = this.values.subarray(0, layout.totalParams) as T;
    this.grads = allocFloat(this.dtype, layout.totalParams) as T;
    const entries = layout.parameters;
    const paramEntries = entries.filter((e) => e.trainable);
    const statEntries = entries.filter((e) => !e.trainable);
    const view = (offset: number, length: number) => this.values.subarray(offset, offset + length) as T;
    this.params = paramEntries.map(({ name, shape, offset, length }) => ({
      name, shape, value: view(offset, length), grad: this.grads.subarray(offset, offset + length) as T,
    }));
    this.stats = statEntries.map(({ name, shape, offset, length }) => ({ name, shape, value: view(offset, length) }));
    const paramsOf = (i: number) => this.params.filter((_, k) => paramEntries[k]!.layerIndex === i);
    const statsOf = (i: number) => this.stats.filter((_, k) => statEntries[k]!.layerIndex === i);
    this.layers = spec.layers.map((ls, i) => layerDefinition(ls).build(ls, layerSite(this.shapes, i), paramsOf(i), this.ctx, statsOf(i)));
    if (!options.values) {
      // one init stream, layers in order: the same seed gives the same weights, bit for bit
      const rng = new Rng(seed);
      spec.layers.forEach((ls, i) => layerDefinition(ls).init?.(ls, layerSite(this.shapes, i), paramsOf(i), rng));
      for (const e of statEntries) this.values.fill(e.initial ?? 0, e.offset, e.offset + e.length);
    }
    const first = this.layers.findIndex((l) => l.params.length > 0);
    this.firstParamLayer = first < 0 ? this.layers.length : first;
    this.hasBatchSums = this.layers.some(isBatchSumLayer);
    this.fusedIntoPrevious = this.layers.map((l, i) => i > 0 && this.layers[i - 1]!.fusesWith?.(l) === true);
  }

  /**
   * Runs `pass` with every layer's forward and backward called on its own: for whoever watches the
   * layers one by one or calls their backward itself (the inspection probe, saliency), since a
   * fused pair never forms the tensor between its two layers. The same results either way.
   */
  unfused<R>(pass: () => R): R {
    const fuse = this.fuseLayers;
    this.fuseLayers = false;
    try {
      return pass();
    } finally {
      this.fuseLayers = fuse;
    }
  }

  /** In layer order, each layer's weight then its bias; views into `values` and `grads`. */
  parameters(): Param<T>[] {
    return this.params;
  }

  /** The statistics (batch norm's running mean and variance), layers in order; views into `values`
   *  after every parameter. */
  statistics(): Statistic<T>[] {
    return this.stats;
  }

  /** Logits (n, classes), a buffer owned by the last layer. x must already be validated. */
  forward(x: FloatArray, n: number, training: boolean): FloatArray {
    let a = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      if (this.fuseLayers && this.fusedIntoPrevious[i + 1]) a = layer.forwardThrough!(this.layers[++i]!, a, n, training);
      else a = layer.forward(a, n, training);
    }
    return a;
  }

  private asDtype(x: ArrayLike<number>, n: number): FloatArray {
    if ((this.dtype === 'float32' && x instanceof Float32Array) || (this.dtype === 'float64' && x instanceof Float64Array)) return x;
    this.xConv = ensureCapacity(this.xConv, n * this.inputSize, this.dtype);
    for (let i = 0; i < n * this.inputSize; i++) this.xConv[i] = x[i]!;
    return this.xConv;
  }

  /** n × classes probabilities; dropout off. Runs in chunks so memory stays bounded (64 images
   *  keep a chunk's activations in cache: ~15–20% faster than 256 with the fast kernels). */
  predict(x: ArrayLike<number>, n: number, chunk = 64): Float32Array {
    validateBatch(x, n, this.inputSize, null, this.classes);
    const out = new Float32Array(n * this.classes);
    const probs = allocFloat(this.dtype, Math.min(n, chunk) * this.classes);
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const logits = this.forward(this.chunkOf(x, start, m), m, false);
      softmax(m, this.classes, logits, probs);
      for (let i = 0; i < m * this.classes; i++) out[start * this.classes + i] = probs[i]!;
    }
    return out;
  }

  /**
   * Mean softmax cross-entropy over the batch and its gradients: every parameter's grad is
   * overwritten. Training mode (dropout on, batch norm over this batch, its running statistics
   * updated) unless told otherwise.
   */
  lossAndGradients(x: ArrayLike<number>, labels: ArrayLike<number>, n: number,
    options: { inputGradient?: boolean; training?: boolean; validate?: boolean; labelSmoothing?: number } = {}): LossResult {
    if (options.validate !== false) validateBatch(x, n, this.inputSize, labels, this.classes);
    const training = options.training ?? true;
    const pass = this.trainingPass(this.asDtype(x, n), labels, n, {
      lossScale: 1 / n, labelSmoothing: options.labelSmoothing, inputGradient: options.inputGradient ?? true, training, updateStatistics: training,
    });
    // the whole batch is here, so each batch-sum layer's total is its own sums
    let step = pass.next();
    while (!step.done) step = pass.next(step.value.sums);
    const { lossSum, correct, inputGradient } = step.value;
    return { loss: lossSum / n, correct, inputGradient };
  }

  /**
   * Forward, loss and backward of n images, as a generator that stops at each batch-sum layer
   * (batch norm in training) with this pass's sums and goes on with the whole batch's, which the
   * driver sends back: lossAndGradients for a whole batch, the data-parallel pool for its shards
   * (which adds every shard's sums first). The parameter gradients overwrite `grads`.
   */
  *trainingPass(x: FloatArray, labels: ArrayLike<number>, n: number, options: TrainingPassOptions): Generator<BatchSumRequest, PassResult, Float64Array> {
    const { training } = options;
    let a = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      const next = this.fuseLayers && this.fusedIntoPrevious[i + 1] ? this.layers[i + 1]! : null;
      if (next) {
        a = training && isBatchSumLayer(layer)
          ? yield* relay(layer.trainingForwardThrough!(next, a, n, options.updateStatistics), i, 'forward')
          : layer.forwardThrough!(next, a, n, training);
        i++;
      } else if (training && isBatchSumLayer(layer)) a = yield* relay(layer.trainingForward(a, n, options.updateStatistics), i, 'forward');
      else a = layer.forward(a, n, training);
    }
    const k = this.classes;
    this.probs = ensureCapacity(this.probs, n * k, this.dtype);
    this.dlogits = ensureCapacity(this.dlogits, n * k, this.dtype);
    const { lossSum, correct } = softmaxCrossEntropy(n, k, a, labels, this.probs, this.dlogits, options.lossScale, options.labelSmoothing ?? 0);
    this.grads.fill(0);
    let d: FloatArray | null = this.dlogits;
    for (let i = this.layers.length - 1; i >= 0 && d; i--) {
      const layer = this.layers[i]!;
      if (this.fuseLayers && this.fusedIntoPrevious[i]) {
        const below = this.layers[--i]!;
        const need = options.inputGradient || i > this.firstParamLayer;
        if (training && isBatchSumLayer(below)) d = yield* relay(below.trainingBackwardThrough!(layer, d, n, need), i, 'backward');
        else d = below.backwardThrough!(layer, d, n, need);
        continue;
      }
      const need = options.inputGradient || i > this.firstParamLayer;
      if (training && isBatchSumLayer(layer)) d = yield* relay(layer.trainingBackward(d, n, need), i, 'backward');
      else d = layer.backward(d, n, need);
    }
    return { lossSum, correct, inputGradient: options.inputGradient ? d : null };
  }

  /** Loss and accuracy without gradients, in chunks; dropout off. Validation computes the same. */
  evaluate(x: ArrayLike<number>, labels: ArrayLike<number>, n: number, chunk = 256): { loss: number; accuracy: number; correct: number } {
    validateBatch(x, n, this.inputSize, labels, this.classes);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const r = this.evaluateBatch(this.chunkOf(x, start, m), sliceOf(labels, start, m), m);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / n, accuracy: correct / n, correct };
  }

  /**
   * Probabilities, predicted classes and the summed loss of n labelled images, one forward pass per
   * chunk, dropout off: the loss and `correct` exactly as `evaluate` (and so validation) computes
   * them — the loss from the logits by log-sum-exp, never from rounded probabilities.
   */
  classify(x: ArrayLike<number>, labels: ArrayLike<number>, n: number, chunk = 256): Classification {
    validateBatch(x, n, this.inputSize, labels, this.classes);
    const k = this.classes;
    const probabilities = new Float32Array(n * k);
    const predicted = new Int32Array(n);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const { logits, probs, lossSum: s, correct: c } = this.head(this.chunkOf(x, start, m), sliceOf(labels, start, m), m);
      lossSum += s;
      correct += c;
      for (let i = 0; i < m * k; i++) probabilities[start * k + i] = probs[i]!;
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
        predicted[start + i] = best;
      }
    }
    return { probabilities, predicted, lossSum, correct };
  }

  /** Summed loss and correct count of one validated batch, inference mode; reuses the head buffers. */
  evaluateBatch(x: FloatArray, labels: ArrayLike<number>, n: number): { lossSum: number; correct: number } {
    const { lossSum, correct } = this.head(x, labels, n);
    return { lossSum, correct };
  }

  /** Inference forward + the fused softmax/cross-entropy head: logits, probabilities (model dtype),
   *  summed loss and correct count; the buffers are the model's until the next call. */
  private head(x: FloatArray, labels: ArrayLike<number>, n: number): { logits: FloatArray; probs: FloatArray; lossSum: number; correct: number } {
    const logits = this.forward(x, n, false);
    this.probs = ensureCapacity(this.probs, n * this.classes, this.dtype);
    this.dlogits = ensureCapacity(this.dlogits, n * this.classes, this.dtype);
    const { lossSum, correct } = softmaxCrossEntropy(n, this.classes, logits, labels, this.probs, this.dlogits, 1);
    return { logits, probs: this.probs, lossSum, correct };
  }

  /** Images [start, start + m) of x in the model's dtype. */
  private chunkOf(x: ArrayLike<number>, start: number, m: number): FloatArray {
    return this.asDtype(sliceOf(x, start * this.inputSize, m * this.inputSize), m);
  }
}

/** A layer's batch-sum generator inside the model's: each of its sums goes out tagged with the layer. */
function* relay<T>(pass: Generator<Float64Array, T, Float64Array>, layerIndex: number, phase: BatchSumRequest['phase']): Generator<BatchSumRequest, T, Float64Array> {
  let step = pass.next();
  while (!step.done) step = pass.next(yield { layerIndex, phase, sums: step.value });
  return step.value;
}

/** [start, start + length) of an array: a view of a typed array, a copy of anything else. */
function sliceOf(a: ArrayLike<number>, start: number, length: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as Float32Array).subarray(start, start + length) : Array.prototype.slice.call(a, start, start + length);
}

export function buildModel(spec: ModelSpec, options: BuildOptions = {}): Model<Float32Array> {
  if (options.values && !(options.values instanceof Float32Array)) throw new Error('buildModel builds float32 models');
  return new Model<Float32Array>(spec, { ...options, dtype: 'float32' });
}
