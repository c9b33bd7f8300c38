/**
 * ReLU and the softmax cross-entropy head. Softmax is never a layer of its own: fused with the loss,
 * its gradient is simply (p − onehot) / N.
 */
import type { FloatArray } from '../tensor.js';

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
 * logits (N,K), labels (N) → probs (N,K), dlogits (N,K) = (p − onehot) / N.
 * Returns the summed loss Σ −log p[label] (as logsumexp − z[label], exact for large logits) and
 * the number of rows whose argmax is the label.
 */
export function softmaxCrossEntropy(n: number, k: number, logits: FloatArray, labels: ArrayLike<number>,
  probs: FloatArray, dlogits: FloatArray, scale: number): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let b = 0; b < n; b++) {
    const o = b * k;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) if (logits[o + j]! > max) { max = logits[o + j]!; arg = j; }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j]! - max);
    const y = labels[b]!;
    lossSum += Math.log(sum) + max - logits[o + y]!;
    if (arg === y) correct++;
    for (let j = 0; j < k; j++) {
      const p = Math.exp(logits[o + j]! - max) / sum;
      probs[o + j] = p;
      dlogits[o + j] = (p - (j === y ? 1 : 0)) * scale;
    }
  }
  return { lossSum, correct };
}
