/**
 * The elementwise activations of conv and dense layers, and the softmax cross-entropy head. Softmax
 * is never a layer of its own: fused with the loss, its gradient is simply (p − target) / N.
 */
import type { FloatArray } from '../tensor.js';

/** The activations a kernel applies ('linear' is no call at all). */
export type ActivationKind = 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid';

// z (len) → a = max(0, z), in place is fine
export function reluForward(z: FloatArray, a: FloatArray, len: number): void {
  for (let i = 0; i < len; i++) {
    const v = z[i]!;
    a[i] = v > 0 ? v : 0;
  }
}

// a is the ReLU output: dz = da where a > 0 (the derivative at 0 is 0, as in PyTorch); in place is fine
export function reluBackward(a: FloatArray, da: FloatArray, dz: FloatArray, len: number): void {
  for (let i = 0; i < len; i++) dz[i] = a[i]! > 0 ? da[i]! : 0;
}

// z (len) → a = f(z); in place is fine. leakyRelu: z > 0 ? z : alpha·z (PyTorch's negative_slope)
export function activationForward(kind: ActivationKind, alpha: number, z: FloatArray, a: FloatArray, len: number): void {
  switch (kind) {
    case 'relu':
      reluForward(z, a, len);
      return;
    case 'leakyRelu':
      for (let i = 0; i < len; i++) {
        const v = z[i]!;
        a[i] = v > 0 ? v : alpha * v;
      }
      return;
    case 'tanh':
      for (let i = 0; i < len; i++) a[i] = Math.tanh(z[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < len; i++) a[i] = 1 / (1 + Math.exp(-z[i]!));
      return;
  }
}

// a is f's output: dz = da · f'(z), written from a alone (so the layer keeps one buffer):
//   relu a > 0 ? 1 : 0 · leakyRelu a > 0 ? 1 : alpha (at z = 0 the slope is alpha, as PyTorch's)
//   tanh 1 − a² · sigmoid a·(1 − a). In place is fine.
export function activationBackward(kind: ActivationKind, alpha: number, a: FloatArray, da: FloatArray, dz: FloatArray, len: number): void {
  switch (kind) {
    case 'relu':
      reluBackward(a, da, dz, len);
      return;
    case 'leakyRelu':
      for (let i = 0; i < len; i++) dz[i] = a[i]! > 0 ? da[i]! : alpha * da[i]!;
      return;
    case 'tanh':
      for (let i = 0; i < len; i++) {
        const v = a[i]!;
        dz[i] = da[i]! * (1 - v * v);
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < len; i++) {
        const v = a[i]!;
        dz[i] = da[i]! * v * (1 - v);
      }
      return;
  }
}

// logits (N,K) → probs (N,K); numerically stable
export function softmax(n: number, k: number, logits: FloatArray, probs: FloatArray): void {
  for (let b = 0; b < n; b++) {
    const o = b * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[o + j]! - max);
      probs[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) probs[o + j] = probs[o + j]! / sum;
  }
}

/**
 * logits (N,K), labels (N) → probs (N,K), dlogits (N,K) = (p − target) · scale, where the target is
 * the one-hot label smoothed as PyTorch's `label_smoothing`: (1 − ε)·onehot + ε/K.
 * Returns the summed loss Σ −Σ_j target_j·log p_j (with log p_j = z_j − logsumexp, exact for large
 * logits; ε = 0 gives Σ −log p[label]) and the number of rows whose argmax is the label.
 */
export function softmaxCrossEntropy(n: number, k: number, logits: FloatArray, labels: ArrayLike<number>,
  probs: FloatArray, dlogits: FloatArray, scale: number, smoothing = 0): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  const off = smoothing / k;
  const on = 1 - smoothing + off;
  for (let b = 0; b < n; b++) {
    const o = b * k;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) if (logits[o + j]! > max) { max = logits[o + j]!; arg = j; }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j]! - max);
    const lse = Math.log(sum) + max;
    const y = labels[b]!;
    if (smoothing === 0) {
      lossSum += lse - logits[o + y]!;
    } else {
      // −Σ_j t_j (z_j − lse) = lse − Σ_j t_j z_j, since Σ_j t_j = 1
      let tz = 0;
      for (let j = 0; j < k; j++) tz += (j === y ? on : off) * logits[o + j]!;
      lossSum += lse - tz;
    }
    if (arg === y) correct++;
    for (let j = 0; j < k; j++) {
      const p = Math.exp(logits[o + j]! - max) / sum;
      probs[o + j] = p;
      dlogits[o + j] = (p - (smoothing === 0 ? (j === y ? 1 : 0) : j === y ? on : off)) * scale;
    }
  }
  return { lossSum, correct };
}
