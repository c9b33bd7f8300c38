/** What the inspection tools know of a globalavgpool2d layer: each output reads its whole channel, the mean of it. */
import { at } from '../inspect/numbers.js';
import type { LayerInspector } from '../inspect/types.js';
import type { GlobalAvgPool2dSpec } from '../spec.js';

export const globalavgpool2dInspector: LayerInspector<GlobalAvgPool2dSpec> = {
  receptiveField: () => 'whole',
  featureMaps: false,
  rectified: () => false,
  forward(_spec, _site, io, unit) {
    const [h, w] = io.inShape;
    let sum = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) sum += io.input[at(io.inShape, y, x, unit[2])]!;
    return { kind: 'identity', note: `mean of channel ${unit[2]} over all ${h}×${w} positions: Σ = ${sum.toPrecision(6)}, Σ / ${h * w} = ${(sum / (h * w)).toPrecision(6)}; the engine's output ${io.output[unit[2]]!.toPrecision(6)}` };
  },
  backward(_spec, _site, io, unit) {
    const [h, w] = io.inShape;
    const dY = io.dout![unit[2]]!;
    return { kind: 'identity', note: `∂L/∂Y = ${dY.toPrecision(6)} is shared by all ${h * w} positions of channel ${unit[2]}: ${(dY / (h * w)).toPrecision(6)} each; the engine's ∂L/∂X at (0, 0) ${io.dx![at(io.inShape, 0, 0, unit[2])]!.toPrecision(6)}` };
  },
  formulas: () => ({
    forward: ['Y[0,0,c] = (1 / (H·W)) Σ_{i,j} X[i,j,c]'],
    backward: ['∂L/∂X[i,j,c] = ∂L/∂Y[0,0,c] / (H·W)'],
  }),
};
