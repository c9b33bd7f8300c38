/**
 * Adam's update over the flat parameter buffer, the reference loop. The rule itself (PyTorch's
 * Adam and AdamW) and its coefficients are defined in optimizers/adam.ts; this is its arithmetic:
 * float64 per element, each buffer stored back as float32:
 *   w ← f32(w·decay);  g = grad + l2·w
 *   m ← b1·m + (1−b1)·g;  v ← b2·v + ((1−b2)·g)·g          (the unrounded m, v go on below)
 *   w ← f32(w − (stepSize·m) / (√v / sqrtBc2 + eps))
 * (decay is 1 for Adam and l2 is 0 for AdamW, so one loop serves both: w·1 and g + 0·w are exact.)
 * The fast set (wasm/assembly/kernels.ts, adamStep) does the same operations in the same order, two
 * elements per f64x2, and agrees bit for bit.
 */
import type { FloatArray } from '../tensor.js';
import type { AdamCoefficients, AdamUpdate } from './types.js';

// values, grads, m, v (len) → values, m, v updated in place
export function adamStep(values: FloatArray, grads: FloatArray, m: Float32Array, v: Float32Array, c: AdamCoefficients): void {
  const { b1, b2, l2, decay, stepSize, sqrtBc2, eps } = c;
  const c1 = 1 - b1, c2 = 1 - b2;
  for (let i = 0; i < values.length; i++) {
    values[i] *= decay;
    const g = grads[i]! + l2 * values[i]!;
    const mi = b1 * m[i]! + c1 * g;
    const vi = b2 * v[i]! + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    values[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

/** The moments in JavaScript memory, updated by the loop above. */
export function referenceAdamUpdate(size: number): AdamUpdate {
  const m = new Float32Array(size);
  const v = new Float32Array(size);
  return { m, v, step: (values, grads, c) => adamStep(values, grads, m, v, c) };
}
