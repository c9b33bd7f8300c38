/**
 * What the inspection tools know of a batchnorm layer: elementwise (each output reads its own
 * input), and for one unit its input, output and the channel's scale and shift; inspections run in
 * inference mode, so the running statistics normalise.
 */
import { at } from '../inspect/numbers.js';
import type { LayerInspector } from '../inspect/types.js';
import type { BatchNormSpec } from '../spec.js';

export const batchnormInspector: LayerInspector<BatchNormSpec> = {
  receptiveField: () => ({ y: { stride: 1, offset: 0, size: 1 }, x: { stride: 1, offset: 0, size: 1 } }),
  featureMaps: false,
  rectified: () => false,
  forward(_spec, _site, io, unit) {
    const [gamma, beta] = io.params;
    const i = at(io.inShape, unit[0], unit[1], unit[2]);
    return { kind: 'identity', note: `channel ${unit[2]}, with the running mean and variance (inference): x = ${io.input[i]!.toPrecision(6)} → y = γ·x̂ + β = ${io.output[i]!.toPrecision(6)} (γ = ${gamma!.value[unit[2]]!.toPrecision(4)}, β = ${beta!.value[unit[2]]!.toPrecision(4)})` };
  },
  backward(_spec, _site, io, unit) {
    const [gamma, beta] = io.params;
    const i = at(io.inShape, unit[0], unit[1], unit[2]);
    return { kind: 'identity', note: `∂L/∂y = ${io.dout![i]!.toPrecision(6)} → ∂L/∂x = ${io.dx![i]!.toPrecision(6)}; this image's ∂L/∂γ = ${gamma!.grad[unit[2]]!.toPrecision(4)}, ∂L/∂β = ${beta!.grad[unit[2]]!.toPrecision(4)} for channel ${unit[2]}` };
  },
  formulas: () => ({
    forward: ['x̂ = (x − μ_running) / √(σ²_running + ε)', 'y = γ · x̂ + β'],
    backward: ['inference: ∂L/∂x = ∂L/∂y · γ / √(σ²_running + ε)', '∂L/∂γ = Σ ∂L/∂y · x̂,   ∂L/∂β = Σ ∂L/∂y'],
  }),
};
