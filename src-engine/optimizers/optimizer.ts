import type { FloatArray } from '../tensor.js';

export type OptimizerConfig =
  | { type: 'sgd'; learningRate: number; momentum?: number; weightDecay?: number; nesterov?: boolean }
  | { type: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number }
  /** Adam with decoupled weight decay (default 0.01, PyTorch's). */
  | { type: 'adamw'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number };

/** Updates the flat parameter buffer (model.trainable) in place from the flat gradient buffer. */
export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Steps taken so far (Adam's bias correction needs it). */
  stepCount: number;
  step(values: FloatArray, grads: FloatArray, learningRate: number): void;
  /** Named moment buffers, for the trainer state. */
  buffers(): Record<string, Float32Array>;
}
