/**
 * The kernel set a model computes with. A kernel is a free function over flat arrays: shapes in the
 * first lines, no allocation, no validation (the layer validated its spec once). The reference set
 * (reference.ts) is the readable version and the test oracle; a fast set implements the same
 * signatures and is checked against it.
 */
import type { FloatArray } from '../tensor.js';
import type { ActivationKind } from './activations.js';

/** Geometry of a batched convolution; padBottom/padRight are implied by oh/ow. */
export interface ConvShape {
  n: number; h: number; w: number; c: number; oc: number;
  kh: number; kw: number; sh: number; sw: number;
  padTop: number; padLeft: number;
  oh: number; ow: number;
}

export interface PoolShape {
  n: number; h: number; w: number; c: number;
  ph: number; pw: number; sh: number; sw: number;
  oh: number; ow: number;
}

/** Geometry of average pooling: 'same' pads (padBottom/padRight implied by oh/ow), and the mean
 *  is over the window's cells inside the input. Global average pooling is the window (H, W). */
export interface AvgPoolShape extends PoolShape {
  padTop: number; padLeft: number;
}

/** One Adam step's coefficients, computed by the optimizer (optimizers/adam.ts) from its config,
 *  the learning rate and the step count. */
export interface AdamCoefficients {
  b1: number; b2: number;
  /** L2 weight decay added to the gradient (Adam's), 0 for AdamW. */
  l2: number;
  /** 1 − lr·wd, the decoupled decay applied to the weights first (AdamW's), 1 for Adam. */
  decay: number;
  /** lr / (1 − b1ᵗ) */
  stepSize: number;
  /** √(1 − b2ᵗ) */
  sqrtBc2: number;
  eps: number;
}

/** Adam's moments, held where the kernel set computes, and the update that uses them. */
export interface AdamUpdate {
  /** The first and second moments (size), for the trainer state: read and restored in place. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** values, grads (size) → values, m, v updated in place. */
  step(values: FloatArray, grads: FloatArray, c: AdamCoefficients): void;
}

export interface Kernels {
  readonly name: string;
  /**
   * True when the set fuses the ReLU (kernels/wasm): the forward kernels then take a trailing
   * `relu` flag (out = max(0, ·)) and the backward kernels a trailing `activated`, the ReLU's output,
   * to mask dout by. Layers then skip their own ReLU passes, the slowest loops left in JavaScript.
   */
  readonly fusesRelu?: boolean;
  /** x (N,H,W,C), weight (KH,KW,C,OC), bias (OC) → out (N,OH,OW,OC), overwritten, before activation. */
  conv2dForward(s: ConvShape, x: FloatArray, weight: FloatArray, bias: FloatArray, out: FloatArray, relu?: boolean): void;
  /** dout (N,OH,OW,OC) → dweight, dbias accumulated (+=); dx (N,H,W,C) overwritten unless null. */
  conv2dBackward(s: ConvShape, x: FloatArray, weight: FloatArray, dout: FloatArray,
    dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null, activated?: FloatArray | null): void;
  /** a (N,IN), weight (IN,OUT), bias (OUT) → z (N,OUT), overwritten. */
  denseForward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, bias: FloatArray, z: FloatArray, relu?: boolean): void;
  /** dz (N,OUT) → dweight, dbias accumulated (+=); da (N,IN) overwritten unless null. */
  denseBackward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, dz: FloatArray,
    dweight: FloatArray, dbias: FloatArray, da: FloatArray | null, activated?: FloatArray | null): void;
  /** x (N,H,W,C) → out (N,OH,OW,C) and argmax (N,OH,OW,C): the index into x of the first maximum, row-major. */
  maxpool2dForward(s: PoolShape, x: FloatArray, out: FloatArray, argmax: Int32Array): void;
  /** dout (N,OH,OW,C) → dx (N,H,W,C) overwritten; overlapping windows accumulate. */
  maxpool2dBackward(s: PoolShape, dout: FloatArray, argmax: Int32Array, dx: FloatArray): void;
  /**
   * Optional, in sets that fuse the ReLU: the backward of a conv with its fused ReLU followed by a
   * max pool, from the gradient at the pool's output — the pool's backward, the ReLU's mask and the
   * conv's backward in one call, so the conv's full-size dout never leaves the set's memory. `pooled`
   * and `argmax` are the pool's forward outputs (pool.n·oh·ow·c of each), the pool's input being the
   * conv's output (pool h, w, c = conv oh, ow, oc). The same results, bit for bit, as
   * maxpool2dBackward and then conv2dBackward with `activated`.
   */
  conv2dReluMaxpoolBackward?(cs: ConvShape, ps: PoolShape, x: FloatArray, weight: FloatArray, poolDout: FloatArray,
    argmax: Int32Array, pooled: FloatArray, dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null): void;
  /**
   * Optional, with conv2dReluMaxpoolBackward: the forward of that pair in one call, each chunk of the
   * conv's output pooled where it was computed. `convOut` (the conv's ReLU output) is written unless
   * null: the fused backward does not read it. `pooled` and `argmax` as maxpool2dForward writes
   * them over the conv's output (argmax indexes it), the same bits.
   */
  conv2dReluMaxpoolForward?(cs: ConvShape, ps: PoolShape, x: FloatArray, weight: FloatArray, bias: FloatArray,
    convOut: FloatArray | null, pooled: FloatArray, argmax: Int32Array): void;
  /** x (N,H,W,C) → out (N,OH,OW,C), each the mean of its window's cells inside x. */
  avgpool2dForward(s: AvgPoolShape, x: FloatArray, out: FloatArray): void;
  /** dout (N,OH,OW,C) → dx (N,H,W,C) overwritten: each window spreads dout / cells over its cells. */
  avgpool2dBackward(s: AvgPoolShape, dout: FloatArray, dx: FloatArray): void;
  /** z (len) → a = f(z), in place allowed. */
  activationForward(kind: ActivationKind, alpha: number, z: FloatArray, a: FloatArray, len: number): void;
  /** a = f(z) (len), da → dz = da·f'(z) computed from a, in place allowed. */
  activationBackward(kind: ActivationKind, alpha: number, a: FloatArray, da: FloatArray, dz: FloatArray, len: number): void;
  /** x (M,C) → sum (C) = Σ_rows x, in float64, overwritten. */
  batchnormSums(m: number, c: number, x: FloatArray, sum: Float64Array): void;
  /** x (M,C), mean (C) → sumSq (C) = Σ_rows (x − mean)², in float64, overwritten. */
  batchnormSquares(m: number, c: number, x: FloatArray, mean: FloatArray, sumSq: Float64Array): void;
  /** x (M,C) → out (M,C) = x·scale[c] + shift[c]: batch norm's normalize-and-affine in PyTorch's
   *  CPU form (scale = γ/σ, shift = β − mean·scale); also its inference-mode input gradient. */
  batchnormAffine(m: number, c: number, x: FloatArray, scale: FloatArray, shift: FloatArray, out: FloatArray): void;
  /** x, dout (M,C), mean (C) → sumDout (C) = Σ dout, sumDoutXc (C) = Σ dout·(x − mean), in float64, overwritten. */
  batchnormBackwardSums(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, sumDout: Float64Array, sumDoutXc: Float64Array): void;
  /** x, dout (M,C) → dx (M,C) = (dout − a[c] − (x − mean[c])·b[c])·k[c], overwritten (training-mode
   *  batch norm: a = mean of dout, b = mean of dout·x̂ / σ, k = γ/σ over the whole batch). */
  batchnormBackward(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, a: FloatArray, b: FloatArray, k: FloatArray, dx: FloatArray): void;
  /**
   * Optional (the fast set): batch norm followed by a max pool without the tensor between them in
   * JavaScript memory (ps is the pool's shape; batch norm's M = ps.n·ps.h·ps.w rows, C = ps.c).
   * batchnormAffineMaxpool is batchnormAffine, then maxpool2dForward of its output into pooled and
   * argmax; the two backward calls take the pool's gradient at its output and form batch norm's
   * dout inside, as maxpool2dBackward would. The same bits as the separate calls.
   */
  batchnormAffineMaxpool?(ps: PoolShape, x: FloatArray, scale: FloatArray, shift: FloatArray, pooled: FloatArray, argmax: Int32Array): void;
  batchnormBackwardSumsPooled?(ps: PoolShape, x: FloatArray, poolDout: FloatArray, argmax: Int32Array, mean: FloatArray,
    sumDout: Float64Array, sumDoutXc: Float64Array): void;
  batchnormBackwardPooled?(ps: PoolShape, x: FloatArray, poolDout: FloatArray, argmax: Int32Array, mean: FloatArray,
    a: FloatArray, b: FloatArray, k: FloatArray, dx: FloatArray): void;
  /** Adam's moments (zero) for `size` parameters and their update, made once per optimizer: the
   *  fast set keeps them in WebAssembly memory so a step copies only the weights and gradients. */
  adamUpdate(size: number): AdamUpdate;
}
