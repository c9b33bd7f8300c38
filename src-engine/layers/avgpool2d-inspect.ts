/**
 * What the inspection tools know of an avgpool2d layer: its window (receptive field, padding
 * clamped away), and the step-through's numbers for one output unit — the window's cells inside
 * the image, their sum and count, the mean the engine computed, and on the way back the gradient
 * shared equally among those cells.
 */
import { at } from '../inspect/numbers.js';
import type { LayerInspector, LayerIO, Unit } from '../inspect/types.js';
import type { AvgPool2dSpec } from '../spec.js';
import { avgPoolGeometry } from './avgpool2d.js';

/** Input indices of the unit's window cells that are inside the image (padding is not counted). */
function cellsOf(spec: AvgPool2dSpec, label: string, io: LayerIO, unit: Unit): { rows: [number, number]; cols: [number, number]; index: number[] } {
  const g = avgPoolGeometry(label, spec, io.inShape);
  const [h, w] = io.inShape;
  const y0 = Math.max(0, unit[0] * g.sh - g.padTop), y1 = Math.min(h - 1, unit[0] * g.sh - g.padTop + g.ph - 1);
  const x0 = Math.max(0, unit[1] * g.sw - g.padLeft), x1 = Math.min(w - 1, unit[1] * g.sw - g.padLeft + g.pw - 1);
  const index: number[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) index.push(at(io.inShape, y, x, unit[2]));
  return { rows: [y0, y1], cols: [x0, x1], index };
}

export const avgpool2dInspector: LayerInspector<AvgPool2dSpec> = {
  receptiveField(spec, { label, inputShape }) {
    const g = avgPoolGeometry(label, spec, inputShape);
    return { y: { stride: g.sh, offset: -g.padTop, size: g.ph }, x: { stride: g.sw, offset: -g.padLeft, size: g.pw } };
  },
  featureMaps: true,
  rectified: () => false,

  forward(spec, { label }, io, unit) {
    const { rows, cols, index } = cellsOf(spec, label, io, unit);
    const sum = index.reduce((s, i) => s + io.input[i]!, 0);
    const out = io.output[at(io.outShape, unit[0], unit[1], unit[2])]!;
    return { kind: 'identity', note: `mean of channel ${unit[2]} over rows ${rows[0]}–${rows[1]}, columns ${cols[0]}–${cols[1]} (${index.length} cells inside the image): Σ = ${sum.toPrecision(6)}, Σ / ${index.length} = ${(sum / index.length).toPrecision(6)}; the engine's output ${out.toPrecision(6)}` };
  },

  backward(spec, { label }, io, unit) {
    const { index } = cellsOf(spec, label, io, unit);
    const dY = io.dout![at(io.outShape, unit[0], unit[1], unit[2])]!;
    return { kind: 'identity', note: `∂L/∂Y = ${dY.toPrecision(6)} is shared equally: each of the ${index.length} cells gets ${(dY / index.length).toPrecision(6)} from this unit (plus what overlapping windows send); the engine's ∂L/∂X at the first cell ${io.dx![index[0]!]!.toPrecision(6)}` };
  },

  formulas: () => ({
    forward: ['Y[i,j,c] = (1 / |W|) Σ_{(m,n) ∈ W} X[i·s + m, j·s + n, c]   (W: the window\'s cells inside the image)'],
    backward: ['∂L/∂X[i·s + m, j·s + n, c] += ∂L/∂Y[i,j,c] / |W|   for every cell of the window'],
  }),
};
