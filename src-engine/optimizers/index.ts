import type { Kernels } from '../kernels/types.js';
import { Adam } from './adam.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { Sgd } from './sgd.js';

export type { Optimizer, OptimizerConfig } from './optimizer.js';
export { Adam, ADAMW_WEIGHT_DECAY } from './adam.js';
export { Sgd } from './sgd.js';

/** `kernels`: the model's set, where Adam keeps its moments and computes its update. */
export function createOptimizer(config: OptimizerConfig, size: number, kernels?: Kernels): Optimizer {
  return config.type === 'sgd' ? new Sgd(config, size) : new Adam(config, size, kernels);
}

/** A clear message for each out-of-range hyperparameter, or null. */
export function checkOptimizerConfig(config: OptimizerConfig): string | null {
  if (!config || !['sgd', 'adam', 'adamw'].includes(config.type)) return `optimizer must be 'sgd', 'adam' or 'adamw', got ${JSON.stringify((config as { type?: unknown })?.type)}`;
  const lr = config.learningRate;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) return `learning rate must be a positive number, got ${lr}`;
  const wd = config.weightDecay ?? 0;
  if (!Number.isFinite(wd) || wd < 0) return `weight decay must be ≥ 0, got ${wd}`;
  if (config.type === 'sgd') {
    const mu = config.momentum ?? 0;
    if (!Number.isFinite(mu) || mu < 0 || mu >= 1) return `momentum must be in [0, 1), got ${mu}`;
  } else {
    for (const [name, b] of [['beta1', config.beta1 ?? 0.9], ['beta2', config.beta2 ?? 0.999]] as const) {
      if (!Number.isFinite(b) || b < 0 || b >= 1) return `${name} must be in [0, 1), got ${b}`;
    }
    const eps = config.epsilon ?? 1e-8;
    if (!Number.isFinite(eps) || eps <= 0) return `epsilon must be > 0, got ${eps}`;
  }
  return null;
}
