/**
 * Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter) in PyTorch's arithmetic:
 *   adam:  g = grad + wd·w (L2 in the gradient, as torch.optim.Adam's weight_decay)
 *   adamw: w ← w·(1 − lr·wd) first (decoupled decay, as torch.optim.AdamW), g = grad
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   w −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * This file turns the config into each step's coefficients; the loop is a kernel
 * (kernels/adam.ts, and the fast set's), whose moments live where it computes.
 */
import { referenceKernels } from '../kernels/reference.js';
import type { AdamCoefficients, AdamUpdate, Kernels } from '../kernels/types.js';
import type { FloatArray } from '../tensor.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';

/** AdamW's default weight decay, PyTorch's. */
export const ADAMW_WEIGHT_DECAY = 0.01;

export class Adam implements Optimizer {
  stepCount = 0;
  private readonly update: AdamUpdate;
  private readonly c: AdamCoefficients = { b1: 0, b2: 0, l2: 0, decay: 1, stepSize: 0, sqrtBc2: 1, eps: 0 };

  constructor(readonly config: Extract<OptimizerConfig, { type: 'adam' | 'adamw' }>, size: number, kernels: Kernels = referenceKernels) {
    this.update = kernels.adamUpdate(size);
  }

  step(values: FloatArray, grads: FloatArray, lr: number): void {
    const c = this.c;
    c.b1 = this.config.beta1 ?? 0.9;
    c.b2 = this.config.beta2 ?? 0.999;
    c.eps = this.config.epsilon ?? 1e-8;
    const decoupled = this.config.type === 'adamw';
    const wd = this.config.weightDecay ?? (decoupled ? ADAMW_WEIGHT_DECAY : 0);
    c.l2 = decoupled ? 0 : wd;
    c.decay = decoupled ? 1 - lr * wd : 1;
    const t = ++this.stepCount;
    c.stepSize = lr / (1 - Math.pow(c.b1, t));
    c.sqrtBc2 = Math.sqrt(1 - Math.pow(c.b2, t));
    this.update.step(values, grads, c);
  }

  buffers(): Record<string, Float32Array> {
    return { m: this.update.m, v: this.update.v };
  }
}
