/**
 * Batch normalization over rows of channels: x is (M, C) with M = N·H·W (NHWC, channel fastest),
 * or N rows of features after a dense layer. In training, over the whole batch (all M rows, of every
 * shard — the layer adds the sums up, see layers/batchnorm.ts), in two passes as PyTorch's CPU
 * kernel (no cancellation from Σx² − M·mean²):
 *   mean = Σx / M,  var = Σ(x − mean)² / M (biased),  σ = √(var + ε),  x̂ = (x − mean) / σ
 *   y = γ·x̂ + β = x·scale + shift  with scale = γ/σ, shift = β − mean·scale (PyTorch's CPU form)
 *   dβ = Σ dy,  dγ = Σ dy·x̂ = Σ dy·(x − mean) / σ
 *   dx = (γ/σ)·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)
 * Sums are float64: they run over up to a whole batch of activations.
 */
import type { FloatArray } from '../tensor.js';

// x is (M,C) → sum (C) = Σ x, overwritten
export function batchnormSums(m: number, c: number, x: FloatArray, sum: Float64Array): void {
  sum.fill(0, 0, c);
  for (let r = 0; r < m; r++) {
    const o = r * c;
    for (let ch = 0; ch < c; ch++) sum[ch] += x[o + ch]!;
  }
}

// x is (M,C), mean (C) → sumSq (C) = Σ (x − mean)², overwritten
export function batchnormSquares(m: number, c: number, x: FloatArray, mean: FloatArray, sumSq: Float64Array): void {
  sumSq.fill(0, 0, c);
  for (let r = 0; r < m; r++) {
    const o = r * c;
    for (let ch = 0; ch < c; ch++) {
      const d = x[o + ch]! - mean[ch]!;
      sumSq[ch] += d * d;
    }
  }
}

// x is (M,C), scale and shift are (C) → out (M,C) = x·scale + shift
export function batchnormAffine(m: number, c: number, x: FloatArray, scale: FloatArray, shift: FloatArray, out: FloatArray): void {
  for (let r = 0; r < m; r++) {
    const o = r * c;
    for (let ch = 0; ch < c; ch++) out[o + ch] = x[o + ch]! * scale[ch]! + shift[ch]!;
  }
}

// x, dout are (M,C), mean (C) → sumDout (C) = Σ dout, sumDoutXc (C) = Σ dout·(x − mean), overwritten
export function batchnormBackwardSums(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, sumDout: Float64Array, sumDoutXc: Float64Array): void {
  sumDout.fill(0, 0, c);
  sumDoutXc.fill(0, 0, c);
  for (let r = 0; r < m; r++) {
    const o = r * c;
    for (let ch = 0; ch < c; ch++) {
      const g = dout[o + ch]!;
      sumDout[ch] += g;
      sumDoutXc[ch] += g * (x[o + ch]! - mean[ch]!);
    }
  }
}

// x, dout are (M,C); mean, a, b, k are (C) → dx (M,C) = (dout − a − (x − mean)·b)·k, overwritten
export function batchnormBackward(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, a: FloatArray, b: FloatArray, k: FloatArray, dx: FloatArray): void {
  for (let r = 0; r < m; r++) {
    const o = r * c;
    for (let ch = 0; ch < c; ch++) dx[o + ch] = (dout[o + ch]! - a[ch]! - (x[o + ch]! - mean[ch]!) * b[ch]!) * k[ch]!;
  }
}
