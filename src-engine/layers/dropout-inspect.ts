/** What the inspection tools know of a dropout layer: off in inference, so each output is its input. */
import type { LayerInspector } from '../inspect/types.js';
import type { DropoutSpec } from '../spec.js';

const NOTE = 'dropout is off outside training: Y = X, and the gradient passes through unchanged';

export const dropoutInspector: LayerInspector<DropoutSpec> = {
  receptiveField: () => ({ y: { stride: 1, offset: 0, size: 1 }, x: { stride: 1, offset: 0, size: 1 } }),
  featureMaps: false,
  rectified: () => false,
  forward: () => ({ kind: 'identity', note: NOTE }),
  backward: () => ({ kind: 'identity', note: NOTE }),
  formulas: (spec) => ({
    forward: [`training: Y = X ⊙ M / (1 − ${spec.rate}),  M ~ Bernoulli(1 − ${spec.rate});  inference: Y = X`],
    backward: ['training: ∂L/∂X = ∂L/∂Y ⊙ M / (1 − p);  inference: ∂L/∂X = ∂L/∂Y'],
  }),
};
