import type { LayerInspector } from '../inspect/types.js';
import type { Kernels } from '../kernels/types.js';
import type { OnnxNode, OnnxTensor } from '../onnx-graph.js';
import type { Rng } from '../rng.js';
import type { LayerSpec } from '../spec.js';
import type { DType, FloatArray, Shape3 } from '../tensor.js';

/** A parameter: value and grad are views into the model's two flat buffers. */
export interface Param<T extends FloatArray = FloatArray> {
  name: string;
  shape: number[];
  value: T;
  grad: T;
}

/** A statistic: a value the layer keeps and updates itself in training, never the optimizer (batch
 *  norm's running mean and variance). A view into the model's values buffer, after every parameter. */
export interface Statistic<T extends FloatArray = FloatArray> {
  name: string;
  shape: number[];
  value: T;
}

export interface LayerContext {
  dtype: DType;
  kernels: Kernels;
  /** Shared by every dropout layer of the model; its state is part of the trainer state. */
  dropoutRng: Rng;
}

/** A built layer: owns its buffers, caches what backward needs, calls the kernels. */
export interface Layer {
  readonly label: string;
  readonly inShape: Shape3;
  readonly outShape: Shape3;
  readonly params: Param[];
  /** x is (n, ...inShape); returns (n, ...outShape), a buffer the layer owns until its next forward. */
  forward(x: FloatArray, n: number, training: boolean): FloatArray;
  /** dout is (n, ...outShape); accumulates parameter grads; returns dx unless needInputGrad is false. */
  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null;
  /** Whether this layer and the next run as one, forward and backward (a conv with its ReLU fused,
   *  then a max pool, with kernels that do both in one call). Asked once, when the model is built. */
  fusesWith?(next: Layer): boolean;
  /** When fusesWith(next): this layer's forward and then next's, returning next's output (its own
   *  buffer, as next.forward would), with the same results; this layer's output is not formed. */
  forwardThrough?(next: Layer, x: FloatArray, n: number, training: boolean): FloatArray;
  /** After forwardThrough: next's backward and then this layer's, from the gradient at next's
   *  output, with the same results; next's own dx is not formed. */
  backwardThrough?(next: Layer, dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null;
}

/**
 * A layer whose training forward and backward need sums over the whole batch, not only over the
 * images it is given (batch norm). Its training passes are generators: each yields this pass's
 * sums (float64) and is sent back the whole batch's — for a whole batch the same vector, for one
 * shard of a data-parallel batch every shard's sum (Model.trainingPass relays them to its driver).
 * Outside a training pass, `forward(x, n, true)` and `backward` treat the n images as the batch.
 */
export interface BatchSumLayer extends Layer {
  /** The lengths of the sums its training forward yields, in order. */
  readonly forwardSumLengths: readonly number[];
  /** And its training backward. */
  readonly backwardSumLengths: readonly number[];
  /** The training forward; updates the statistics from the batch when told to (once per step). */
  trainingForward(x: FloatArray, n: number, updateStatistics: boolean): Generator<Float64Array, FloatArray, Float64Array>;
  /** The training backward: accumulates this pass's parameter gradients; dx unless needInputGrad is false. */
  trainingBackward(dout: FloatArray, n: number, needInputGrad: boolean): Generator<Float64Array, FloatArray | null, Float64Array>;
  /** When fusesWith(next): the training forward and backward of this layer and next as one, with the same sums. */
  trainingForwardThrough?(next: Layer, x: FloatArray, n: number, updateStatistics: boolean): Generator<Float64Array, FloatArray, Float64Array>;
  trainingBackwardThrough?(next: Layer, dout: FloatArray, n: number, needInputGrad: boolean): Generator<Float64Array, FloatArray | null, Float64Array>;
}

/** Runs a batch-sum generator over a whole batch: every total is the pass's own sums. */
export function runWhole<T>(pass: Generator<Float64Array, T, Float64Array>): T {
  let step = pass.next();
  while (!step.done) step = pass.next(step.value);
  return step.value;
}

export const isBatchSumLayer = (layer: Layer): layer is BatchSumLayer => 'trainingForward' in layer;

/** Where a layer sits in its model: what every hook of its definition is told. */
export interface LayerSite {
  /** 0-based position in `spec.layers`. */
  index: number;
  /** "conv2d #2": how messages and the UI name the layer (1-based). */
  label: string;
  /** Per-image [H, W, C] of the layer's input. */
  inputShape: Shape3;
  isLast: boolean;
}

export interface LayerInference {
  outputShape: Shape3;
  /** Trainable values. */
  params: number;
  /** Statistics (non-trainable values, such as running means); absent: 0. */
  statistics?: number;
  /** Multiply-adds per image in the forward pass. */
  macs: number;
}

/** A parameter's name within its layer ('weight', 'bias') and its shape; the model names it
 *  `<type><layer number>.<name>` and lays the parameters out in layer order. */
export interface ParamShape {
  name: string;
  shape: number[];
}

/** A statistic's name within its layer, its shape and the value every element starts at. */
export interface StatisticShape extends ParamShape {
  initial: number;
}

/** What a layer's ONNX nodes are given. */
export interface OnnxLayerInput {
  /** The tensor feeding the layer, in the form its definition's `onnxInput` asks for. */
  input: string;
  /** The layer's parameters in the engine's layout (conv (KH, KW, Cin, Cout), dense (in, out)),
   *  then its statistics. */
  params: { name: string; shape: number[]; value: Float32Array }[];
  /** A fresh tensor name, `${what}_${n}`, unique in the graph. */
  name(what: string): string;
  /** On the last layer: the name the classifier's output must have; null elsewhere. */
  graphOutput: string | null;
}

export interface OnnxLayerNodes {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  /** The tensor the layer's output is in (its input, for a layer that adds no node). */
  output: string;
}

/**
 * Everything about one layer type, in its own module; the registry (registry.ts) maps a spec's
 * `type` to it, and shape inference, the model, the parameter layout, the descriptions and the ONNX
 * export all ask it. Hooks after `infer` are only called on a spec that inferred without error.
 */
export interface LayerDefinition<S extends LayerSpec = LayerSpec> {
  readonly type: S['type'];
  /** Validates the spec against its input and infers its output; throws SpecError naming
   *  `site.label` and the numbers. Pure and cheap: the builder runs it on every keystroke. */
  infer(spec: S, site: LayerSite): LayerInference;
  /** The classes of a classifier head (the last layer must be one); null when it is not one. */
  classes?(spec: S, site: LayerSite): number | null;
  /** The layer's parameters in buffer order; none when absent. */
  parameters?(spec: S, site: LayerSite): ParamShape[];
  /** Draws its parameters' initial values from the model's one init stream (layers in order);
   *  what it draws is part of "same seed, same weights". Absent: nothing drawn, all zero. */
  init?(spec: S, site: LayerSite, params: Param[], rng: Rng): void;
  /** Its statistics in buffer order (after every parameter of the model); none when absent. */
  statistics?(spec: S, site: LayerSite): StatisticShape[];
  /** Draws from the model's dropout stream (ctx.dropoutRng) in training; the data-parallel pool
   *  then seeds each shard's stream. Absent: false. */
  readonly random?: boolean;
  /** The runtime layer, over views of the model's buffers (`params` as `parameters` listed them,
   *  `statistics` as `statistics` did). */
  build(spec: S, site: LayerSite, params: Param[], ctx: LayerContext, statistics: Statistic[]): Layer;
  /** One line for the run list and the compare table, e.g. "conv 16 3×3 s2 same". */
  describe(spec: S): string;
  /** Whether a model's one-line summary names it (flatten goes without saying before a dense layer). */
  readonly inSummary: boolean;
  /** The form its ONNX input must be in: an NCHW image, flat (N, features) rows, or as it comes. */
  readonly onnxInput: 'image' | 'flat' | 'any';
  /** Its inference-time ONNX nodes (opset 13), as plain data. */
  onnx(spec: S, site: LayerSite, io: OnnxLayerInput): OnnxLayerNodes;
  /** What the inspection tools (filters, feature maps, the step-through, training health) need to
   *  know of this type, in its own module beside this one; absent: they say it is not supported yet. */
  readonly inspect?: LayerInspector<S>;
}
