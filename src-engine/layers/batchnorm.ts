/**
 * batchnorm: batch normalization per channel (after a conv: the C of (H, W, C); after a dense
 * layer: each feature), with PyTorch's conventions and defaults (momentum 0.1, ε 1e-5):
 *   training:   y = γ·(x − mean_B)/√(var_B + ε) + β, over the whole batch, var_B biased;
 *               running ← (1 − momentum)·running + momentum·batch, the variance unbiased (× M/(M−1))
 *   inference:  the same with the running mean and variance (predict, evaluate, validation, ONNX)
 * Its parameters are the scale γ (init 1) then the shift β (init 0); its running mean (0) and
 * variance (1) are statistics: part of the weights, never touched by the optimizer.
 *
 * "The whole batch" holds in data-parallel training too: the training passes stop where they need
 * sums over the batch (BatchSumLayer) — Σx, then Σ(x − mean)², then in backward Σdy and
 * Σdy·(x − mean) — and the pool adds every shard's sums in shard order before any shard goes on
 * (parallel/replica.ts).
 */
import type { BatchNormSpec } from '../spec.js';
import { allocFloat, ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { SpecError } from './checks.js';
import { runWhole, type BatchSumLayer, type Layer, type LayerContext, type LayerDefinition, type Param } from './layer.js';
import { MaxPool2d } from './maxpool2d.js';
import { batchnormInspector } from './batchnorm-inspect.js';

const DEFAULT_MOMENTUM = 0.1;
const DEFAULT_EPSILON = 1e-5;

/** x: (N, H, W, C) → (N, H, W, C), normalized per channel c over N·H·W rows. */
export class BatchNorm implements BatchSumLayer {
  readonly outShape: Shape3;
  readonly params: Param[];
  readonly forwardSumLengths: readonly number[];
  readonly backwardSumLengths: readonly number[];
  private readonly c: number;
  private readonly rows: number;
  private readonly momentum: number;
  private readonly epsilon: number;
  // per-channel numbers of the current pass, in the model's dtype (the kernels' operands)
  private readonly mean: FloatArray;
  private readonly scale: FloatArray;
  private readonly shift: FloatArray;
  private readonly a: FloatArray;
  private readonly b: FloatArray;
  private readonly zero: FloatArray;
  private readonly invStd: Float64Array;
  private readonly sums: Float64Array;
  private readonly squares: Float64Array;
  private readonly grads: Float64Array;
  private input: FloatArray | null = null;
  private out: FloatArray | null = null;
  private dx: FloatArray | null = null;
  private n = -1;
  /** Rows of the whole batch the last training forward normalized over (every shard's). */
  private batchRows = 0;
  /** The last forward normalized with batch statistics (else the running ones). */
  private training = false;

  constructor(readonly label: string, spec: BatchNormSpec, readonly inShape: Shape3,
    readonly gamma: Param, readonly beta: Param, readonly runningMean: FloatArray, readonly runningVar: FloatArray, private readonly ctx: LayerContext) {
    this.outShape = inShape;
    this.params = [gamma, beta];
    const c = (this.c = inShape[2]);
    this.rows = inShape[0] * inShape[1];
    this.momentum = spec.momentum ?? DEFAULT_MOMENTUM;
    this.epsilon = spec.epsilon ?? DEFAULT_EPSILON;
    const vec = () => allocFloat(ctx.dtype, c);
    this.mean = vec(); this.scale = vec(); this.shift = vec(); this.a = vec(); this.b = vec(); this.zero = vec();
    this.invStd = new Float64Array(c);
    this.forwardSumLengths = [1 + c, c];
    this.backwardSumLengths = [2 * c];
    this.sums = new Float64Array(1 + c);
    this.squares = new Float64Array(c);
    this.grads = new Float64Array(2 * c);
  }

  forward(x: FloatArray, n: number, training: boolean): FloatArray {
    if (training) return runWhole(this.trainingForward(x, n, false));
    this.useRunningStatistics();
    return this.affine(x, n);
  }

  /** Inference: the running statistics. */
  private useRunningStatistics(): void {
    for (let ch = 0; ch < this.c; ch++) {
      this.mean[ch] = this.runningMean[ch]!;
      this.setScale(ch, this.runningMean[ch]!, this.runningVar[ch]!);
    }
    this.training = false;
  }

  private setScale(ch: number, mean: number, variance: number): void {
    const inv = 1 / Math.sqrt(variance + this.epsilon);
    this.invStd[ch] = inv;
    const s = this.gamma.value[ch]! * inv;
    this.scale[ch] = s;
    this.shift[ch] = this.beta.value[ch]! - mean * s;
  }

  private affine(x: FloatArray, n: number): FloatArray {
    const m = n * this.rows;
    this.out = ensureCapacity(this.out, m * this.c, this.ctx.dtype);
    this.ctx.kernels.batchnormAffine(m, this.c, x, this.scale, this.shift, this.out);
    this.input = x;
    this.n = n;
    return this.out;
  }

  /** Yields [rows, Σx (C)], then Σ(x − mean)² (C), each answered with the whole batch's. */
  *trainingForward(x: FloatArray, n: number, updateStatistics: boolean): Generator<Float64Array, FloatArray, Float64Array> {
    yield* this.batchStatistics(x, n, updateStatistics);
    return this.affine(x, n);
  }

  /** The batch's mean and variance (its scale and shift), from the sums it yields. */
  private *batchStatistics(x: FloatArray, n: number, updateStatistics: boolean): Generator<Float64Array, void, Float64Array> {
    const c = this.c;
    const m = n * this.rows;
    this.sums[0] = m;
    this.ctx.kernels.batchnormSums(m, c, x, this.sums.subarray(1));
    const total: Float64Array = yield this.sums;
    const count = total[0]!;
    for (let ch = 0; ch < c; ch++) this.mean[ch] = total[1 + ch]! / count;
    this.ctx.kernels.batchnormSquares(m, c, x, this.mean, this.squares);
    const squares: Float64Array = yield this.squares;
    // PyTorch's running variance is unbiased; a single value per channel has none, so it counts as 0
    const unbias = count > 1 ? count / (count - 1) : 1;
    const mo = this.momentum;
    for (let ch = 0; ch < c; ch++) {
      const mean = this.mean[ch]!;
      const variance = squares[ch]! / count;
      this.setScale(ch, mean, variance);
      if (updateStatistics) {
        this.runningMean[ch] = (1 - mo) * this.runningMean[ch]! + mo * mean;
        this.runningVar[ch] = (1 - mo) * this.runningVar[ch]! + mo * variance * unbias;
      }
    }
    this.batchRows = count;
    this.training = true;
  }

  // batch norm → max pool: the fast kernels pool batch norm's output where they computed it, and
  // form batch norm's dout from the pool's gradient there, so neither the tensor between the two
  // nor the pool's dx is copied out and back (fashion-strong's largest buffers after its convs)
  fusesWith(next: Layer): boolean {
    const k = this.ctx.kernels;
    return next instanceof MaxPool2d && k.batchnormAffineMaxpool !== undefined && k.batchnormBackwardSumsPooled !== undefined && k.batchnormBackwardPooled !== undefined;
  }

  forwardThrough(next: Layer, x: FloatArray, n: number, training: boolean): FloatArray {
    if (training) return runWhole(this.trainingForwardThrough(next, x, n, false));
    this.useRunningStatistics();
    return this.affinePooled(next, x, n);
  }

  *trainingForwardThrough(next: Layer, x: FloatArray, n: number, updateStatistics: boolean): Generator<Float64Array, FloatArray, Float64Array> {
    yield* this.batchStatistics(x, n, updateStatistics);
    return this.affinePooled(next, x, n);
  }

  /** affine, then the pool after it (next, a MaxPool2d), in one call: returns the pool's output. */
  private affinePooled(next: Layer, x: FloatArray, n: number): FloatArray {
    const { shape, pooled, argmax } = (next as MaxPool2d).outputsFor(n);
    this.ctx.kernels.batchnormAffineMaxpool!(shape, x, this.scale, this.shift, pooled, argmax);
    this.input = x;
    this.n = n;
    return pooled;
  }

  backwardThrough(next: Layer, dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    // outside a training pass (inference-mode statistics), rarely taken: the two layers one by one
    const dx = next.backward(dout, n, true);
    return this.backward(dx!, n, needInputGrad);
  }

  *trainingBackwardThrough(next: Layer, dout: FloatArray, n: number, needInputGrad: boolean): Generator<Float64Array, FloatArray | null, Float64Array> {
    if (!this.training) return this.backwardThrough(next, dout, n, needInputGrad);
    if (!this.input || this.n !== n) throw new Error(`${this.label}: backward before forward`);
    const { shape, argmax } = (next as MaxPool2d).forwardOutputs(n);
    const c = this.c;
    const sumDy = this.grads.subarray(0, c);
    const sumDyXc = this.grads.subarray(c, 2 * c);
    this.ctx.kernels.batchnormBackwardSumsPooled!(shape, this.input, dout, argmax, this.mean, sumDy, sumDyXc);
    this.addParamGrads(sumDy, sumDyXc);
    const total: Float64Array = yield this.grads;
    if (!needInputGrad) return null;
    this.setBackwardCoefficients(total);
    this.dx = ensureCapacity(this.dx, n * this.rows * c, this.ctx.dtype);
    this.ctx.kernels.batchnormBackwardPooled!(shape, this.input, dout, argmax, this.mean, this.a, this.b, this.scale, this.dx);
    return this.dx;
  }

  /** This pass's Σdy and Σdy·(x − mean) (C each) into the parameter gradients: dβ += Σdy, dγ += Σdy·x̂. */
  private gradientSums(dout: FloatArray, n: number): Float64Array {
    if (!this.input || this.n !== n) throw new Error(`${this.label}: backward before forward`);
    const c = this.c;
    const sumDy = this.grads.subarray(0, c);
    const sumDyXc = this.grads.subarray(c, 2 * c);
    this.ctx.kernels.batchnormBackwardSums(n * this.rows, c, this.input, dout, this.mean, sumDy, sumDyXc);
    this.addParamGrads(sumDy, sumDyXc);
    return this.grads;
  }

  /** dβ += Σdy, dγ += Σdy·x̂, from this pass's sums. */
  private addParamGrads(sumDy: Float64Array, sumDyXc: Float64Array): void {
    for (let ch = 0; ch < this.c; ch++) {
      this.beta.grad[ch] += sumDy[ch]!;
      this.gamma.grad[ch] += this.invStd[ch]! * sumDyXc[ch]!;
    }
  }

  /** a, b of the training-mode dx from the whole batch's sums. */
  private setBackwardCoefficients(total: Float64Array): void {
    const c = this.c;
    const count = this.batchRows;
    for (let ch = 0; ch < c; ch++) {
      const inv = this.invStd[ch]!;
      this.a[ch] = total[ch]! / count;
      // x̂·Σ(dy·x̂)/M = (x − mean)·σ⁻²·Σdy·(x − mean)/M
      this.b[ch] = (inv * inv * total[c + ch]!) / count;
    }
  }

  /** Yields [Σdy (C), Σdy·(x − mean) (C)], answered with the whole batch's. */
  *trainingBackward(dout: FloatArray, n: number, needInputGrad: boolean): Generator<Float64Array, FloatArray | null, Float64Array> {
    const total: Float64Array = yield this.gradientSums(dout, n);
    if (!needInputGrad) return null;
    const c = this.c;
    this.setBackwardCoefficients(total);
    const m = n * this.rows;
    this.dx = ensureCapacity(this.dx, m * c, this.ctx.dtype);
    this.ctx.kernels.batchnormBackward(m, c, this.input!, dout, this.mean, this.a, this.b, this.scale, this.dx);
    return this.dx;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (this.training) return runWhole(this.trainingBackward(dout, n, needInputGrad));
    // inference mode: y = x·scale + shift with constants, so dx = dy·scale
    this.gradientSums(dout, n);
    if (!needInputGrad) return null;
    const m = n * this.rows;
    this.dx = ensureCapacity(this.dx, m * this.c, this.ctx.dtype);
    this.ctx.kernels.batchnormAffine(m, this.c, dout, this.scale, this.zero, this.dx);
    return this.dx;
  }
}

export const batchnormLayer: LayerDefinition<BatchNormSpec> = {
  type: 'batchnorm',
  inspect: batchnormInspector,

  infer(spec, { label, inputShape }) {
    const m = spec.momentum ?? DEFAULT_MOMENTUM;
    if (typeof m !== 'number' || !(m >= 0 && m <= 1)) throw new SpecError(`${label}: momentum must be in [0, 1], got ${JSON.stringify(spec.momentum)}`);
    const e = spec.epsilon ?? DEFAULT_EPSILON;
    if (typeof e !== 'number' || !Number.isFinite(e) || e <= 0) throw new SpecError(`${label}: epsilon must be a positive number, got ${JSON.stringify(spec.epsilon)}`);
    const c = inputShape[2];
    return { outputShape: inputShape, params: 2 * c, statistics: 2 * c, macs: 2 * inputShape[0] * inputShape[1] * c };
  },

  parameters: (_spec, { inputShape }) => [{ name: 'weight', shape: [inputShape[2]] }, { name: 'bias', shape: [inputShape[2]] }],
  init(_spec, _site, [gamma]) {
    gamma!.value.fill(1);
  },
  statistics: (_spec, { inputShape }) => [
    { name: 'runningMean', shape: [inputShape[2]], initial: 0 },
    { name: 'runningVar', shape: [inputShape[2]], initial: 1 },
  ],

  build(spec, { label, inputShape }, [gamma, beta], ctx, [mean, variance]) {
    return new BatchNorm(label, spec, inputShape, gamma!, beta!, mean!.value, variance!.value, ctx);
  },

  describe(spec) {
    const m = spec.momentum !== undefined && spec.momentum !== DEFAULT_MOMENTUM ? ` m${spec.momentum}` : '';
    const e = spec.epsilon !== undefined && spec.epsilon !== DEFAULT_EPSILON ? ` ε${spec.epsilon}` : '';
    return `batchnorm${m}${e}`;
  },
  inSummary: true,

  // BatchNormalization in inference mode, on NCHW or on (N, features) rows alike (axis 1)
  onnxInput: 'any',
  onnx(spec, _site, { input, params: [gamma, beta, mean, variance], name }) {
    const output = name('batchnormalization');
    const c = gamma!.value.length;
    return {
      nodes: [{ opType: 'BatchNormalization', inputs: [input, gamma!.name, beta!.name, mean!.name, variance!.name], outputs: [output], attributes: { epsilon: { float: spec.epsilon ?? DEFAULT_EPSILON } } }],
      initializers: [gamma!, beta!, mean!, variance!].map((p) => ({ name: p.name, dims: [c], data: p.value })),
      output,
    };
  },
};
