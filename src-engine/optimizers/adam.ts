/**
 * Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter) in PyTorch's arithmetic:
 *   adam:  g = grad + wd·w (L2 in the gradient, as torch.optim.Adam's weight_decay)
 *   adamw: w ← w·(1 − lr·wd) first (decoupled decay, as torch.optim.AdamW), g = grad
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   w −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 */
import type { FloatArray } from '../tensor.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';

/** AdamW's default weight decay, PyTorch's. */
export const ADAMW_WEIGHT_DECAY = 0.01;

export class Adam implements Optimizer {
  stepCount = 0;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  constructor(readonly config: Extract<OptimizerConfig, { type: 'adam' | 'adamw' }>, size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(values: FloatArray, grads: FloatArray, lr: number): void {
    const b1 = this.config.beta1 ?? 0.9;
    const b2 = this.config.beta2 ?? 0.999;
    const eps = this.config.epsilon ?? 1e-8;
    const decoupled = this.config.type === 'adamw';
    const wd = this.config.weightDecay ?? (decoupled ? ADAMW_WEIGHT_DECAY : 0);
    const l2 = decoupled ? 0 : wd;
    const decay = decoupled ? 1 - lr * wd : 1;
    const t = ++this.stepCount;
    const stepSize = lr / (1 - Math.pow(b1, t));
    const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
    const m = this.m, v = this.v;
    for (let i = 0; i < values.length; i++) {
      if (decoupled) values[i] *= decay;
      const g = grads[i]! + l2 * values[i]!;
      const mi = b1 * m[i]! + (1 - b1) * g;
      const vi = b2 * v[i]! + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      values[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
    }
  }

  buffers(): Record<string, Float32Array> {
    return { m: this.m, v: this.v };
  }
}
