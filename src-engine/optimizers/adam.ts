/**
 * Adam (Kingma & Ba) in PyTorch's arithmetic, with L2 weight decay added to the gradient:
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   w −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 */
import type { FloatArray } from '../tensor.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';

export class Adam implements Optimizer {
  stepCount = 0;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  constructor(readonly config: Extract<OptimizerConfig, { type: 'adam' }>, size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(values: FloatArray, grads: FloatArray, lr: number): void {
    const b1 = this.config.beta1 ?? 0.9;
    const b2 = this.config.beta2 ?? 0.999;
    const eps = this.config.epsilon ?? 1e-8;
    const wd = this.config.weightDecay ?? 0;
    const t = ++this.stepCount;
    const stepSize = lr / (1 - Math.pow(b1, t));
    const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
    const m = this.m, v = this.v;
    for (let i = 0; i < values.length; i++) {
      const g = grads[i]! + wd * values[i]!;
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
