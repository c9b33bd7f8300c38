/**
 * SGD with momentum, Nesterov and L2 weight decay, in PyTorch's form:
 *   g = grad + wd·w;  buf = μ·buf + g;  w −= lr · (nesterov ? g + μ·buf : buf)
 * (buf starts at zero, so the first step's buf is g, as PyTorch's).
 */
import type { FloatArray } from '../tensor.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';

export class Sgd implements Optimizer {
  stepCount = 0;
  private readonly velocity: Float32Array;
  constructor(readonly config: Extract<OptimizerConfig, { type: 'sgd' }>, size: number) {
    this.velocity = new Float32Array(config.momentum ? size : 0);
  }

  step(values: FloatArray, grads: FloatArray, lr: number): void {
    const mu = this.config.momentum ?? 0;
    const wd = this.config.weightDecay ?? 0;
    const nesterov = this.config.nesterov ?? false;
    const v = this.velocity;
    const n = values.length;
    if (mu === 0) {
      for (let i = 0; i < n; i++) values[i] -= lr * (grads[i]! + wd * values[i]!);
    } else {
      for (let i = 0; i < n; i++) {
        const g = grads[i]! + wd * values[i]!;
        const b = mu * v[i]! + g;
        v[i] = b;
        values[i] -= lr * (nesterov ? g + mu * b : b);
      }
    }
    this.stepCount++;
  }

  buffers(): Record<string, Float32Array> {
    return { velocity: this.velocity };
  }
}
