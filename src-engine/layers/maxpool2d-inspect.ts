/**
 * What the inspection tools know of a maxpool2d layer: its window (receptive field), and the
 * step-through's numbers for one output unit — the window, the maximum it chose, and on the way
 * back the gradient routed to that maximum alone.
 */
import { at } from '../inspect/numbers.js';
import type { LayerInspector, LayerIO, Unit } from '../inspect/types.js';
import type { MaxPool2dSpec } from '../spec.js';
import { poolGeometry } from './maxpool2d.js';

/** Input indices of the unit's window, (PH, PW) row-major, in channel c. */
function windowOf(spec: MaxPool2dSpec, label: string, io: LayerIO, unit: Unit): { origin: [number, number]; index: number[]; ph: number; pw: number } {
  const g = poolGeometry(label, spec, io.inShape);
  const y0 = unit[0] * g.sh, x0 = unit[1] * g.sw;
  const index: number[] = [];
  for (let u = 0; u < g.ph; u++) for (let v = 0; v < g.pw; v++) index.push(at(io.inShape, y0 + u, x0 + v, unit[2]));
  return { origin: [y0, x0], index, ph: g.ph, pw: g.pw };
}

export const maxpool2dInspector: LayerInspector<MaxPool2dSpec> = {
  receptiveField(spec, { label, inputShape }) {
    const g = poolGeometry(label, spec, inputShape);
    return { y: { stride: g.sh, offset: 0, size: g.ph }, x: { stride: g.sw, offset: 0, size: g.pw } };
  },
  featureMaps: true,
  rectified: () => false,

  forward(spec, { label }, io, unit) {
    const { origin, index, ph, pw } = windowOf(spec, label, io, unit);
    const window = index.map((i) => io.input[i]!);
    // the kernel's rule: the first maximum in row-major order (strict >)
    let best = 0;
    for (let t = 1; t < window.length; t++) if (window[t]! > window[best]!) best = t;
    return {
      kind: 'maxpool', unit, ph, pw, origin, window, argmax: [Math.floor(best / pw), best % pw], max: window[best]!,
      output: io.output[at(io.outShape, unit[0], unit[1], unit[2])]!,
    };
  },

  backward(spec, { label }, io, unit) {
    const { index, pw } = windowOf(spec, label, io, unit);
    const window = index.map((i) => io.input[i]!);
    let best = 0;
    for (let t = 1; t < window.length; t++) if (window[t]! > window[best]!) best = t;
    return {
      kind: 'maxpool', unit, dY: io.dout![at(io.outShape, unit[0], unit[1], unit[2])]!, argmax: [Math.floor(best / pw), best % pw],
      routed: index.map((i) => io.dx![i]!),
    };
  },

  formulas: () => ({
    forward: ['Y[i,j,c] = max_{m,n} X[i·s + m, j·s + n, c]'],
    backward: ['dX[i·s + m*, j·s + n*, c] = dY[i,j,c]   ((m*, n*) = the position of the max in the window)', 'every other position of the window gets 0'],
  }),
};
