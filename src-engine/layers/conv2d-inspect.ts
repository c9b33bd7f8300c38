/**
 * What the inspection tools know of a conv2d layer: its receptive field (kernel, stride, padding),
 * its filters, and the step-through's numbers for one output unit — the patch under it, the kernel,
 * the dot product and bias that make the pre-activation, the ReLU, and on the way back the masked
 * gradient, its share of dL/dK and dL/dX — with the seed document's formulas.
 */
import { activationSlope, at, rounderOf } from '../inspect/numbers.js';
import type { LayerInspector, LayerIO, Unit } from '../inspect/types.js';
import type { Conv2dSpec } from '../spec.js';
import { convGeometry } from './conv2d.js';

const activationOf = (spec: Conv2dSpec): string => spec.activation ?? 'relu';

/** The taps of unit (oy, ox): for each (u, v, ci) in (KH, KW, Cin) order, the input index or −1 in the padding. */
function taps(spec: Conv2dSpec, label: string, io: LayerIO, unit: Unit): { origin: [number, number]; index: number[] } {
  const g = convGeometry(label, spec, io.inShape);
  const [h, w, c] = io.inShape;
  const y0 = unit[0] * g.sh - g.padTop;
  const x0 = unit[1] * g.sw - g.padLeft;
  const index: number[] = [];
  for (let u = 0; u < g.kh; u++) {
    for (let v = 0; v < g.kw; v++) {
      const iy = y0 + u, ix = x0 + v;
      const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
      for (let ci = 0; ci < c; ci++) index.push(inside ? at(io.inShape, iy, ix, ci) : -1);
    }
  }
  return { origin: [y0, x0], index };
}

/** Weight index of (u, v, ci, k) in (KH, KW, Cin, Cout): the tap's position in `taps` order times Cout, plus k. */
const weightAt = (tap: number, cout: number, k: number) => tap * cout + k;

export const conv2dInspector: LayerInspector<Conv2dSpec> = {
  receptiveField(spec, { label, inputShape }) {
    const g = convGeometry(label, spec, inputShape);
    return { y: { stride: g.sh, offset: -g.padTop, size: g.kh }, x: { stride: g.sw, offset: -g.padLeft, size: g.kw } };
  },
  featureMaps: true,
  rectified: (spec) => activationOf(spec) === 'relu',

  filters(spec, { label, inputShape }, [weight, bias]) {
    const g = convGeometry(label, spec, inputShape);
    return { kh: g.kh, kw: g.kw, cin: inputShape[2], cout: spec.filters, weight: weight!.value, bias: bias!.value };
  },

  forward(spec, { label }, io, unit) {
    const g = convGeometry(label, spec, io.inShape);
    const k = unit[2];
    const cout = spec.filters;
    const cin = io.inShape[2];
    const [weight, bias] = io.params;
    const { origin, index } = taps(spec, label, io, unit);
    const patch = index.map((i) => (i < 0 ? 0 : io.input[i]!));
    const kernel = index.map((_, t) => weight!.value[weightAt(t, cout, k)]!);
    // the reference kernel's order and precision: the bias first, then each tap (u, v, ci), each
    // sum stored in the layer's dtype, zero inputs skipped — so z is the engine's pre-activation
    const round = rounderOf(io.output);
    let z = bias!.value[k]!;
    let dot = 0;
    const channelSums = new Array<number>(cin).fill(0);
    index.forEach((i, t) => {
      if (i < 0) return;
      const x = io.input[i]!;
      const product = x * kernel[t]!;
      channelSums[t % cin]! += product;
      if (x === 0) return;
      z = round(z + product);
      dot = round(dot + product);
    });
    return {
      kind: 'conv', unit, kh: g.kh, kw: g.kw, cin, origin, patch, padded: index.map((i) => i < 0), kernel, channelSums,
      dot, bias: bias!.value[k]!, z, activation: activationOf(spec), a: io.output[at(io.outShape, unit[0], unit[1], k)]!,
    };
  },

  backward(spec, { label }, io, unit) {
    const k = unit[2];
    const cout = spec.filters;
    const [weight, bias] = io.params;
    const { index } = taps(spec, label, io, unit);
    const out = at(io.outShape, unit[0], unit[1], k);
    const act = activationOf(spec);
    const alpha = (spec as { alpha?: number }).alpha ?? 0.01;
    const dA = io.dout![out]!;
    const slope = activationSlope(act, io.output[out]!, alpha);
    const dZ = dA * slope;
    let dZSum = 0;
    for (let p = k; p < io.output.length; p += cout) dZSum += io.dout![p]! * activationSlope(act, io.output[p]!, alpha);
    return {
      kind: 'conv', unit, dA, slope, dZ,
      patchTimesDZ: index.map((i) => (i < 0 ? 0 : io.input[i]! * dZ)),
      dK: index.map((_, t) => weight!.grad[weightAt(t, cout, k)]!),
      db: bias!.grad[k]!,
      dZSum,
      kernelTimesDZ: index.map((i, t) => (i < 0 ? 0 : weight!.value[weightAt(t, cout, k)]! * dZ)),
      dXPatch: index.map((i) => (i < 0 ? 0 : io.dx![i]!)),
    };
  },

  formulas(spec) {
    const relu = activationOf(spec) === 'relu';
    return {
      forward: [
        'Z[i,j,k] = Σ_c Σ_u Σ_v X[i·s + u, j·s + v, c] · K[u,v,c,k] + b_k',
        relu ? 'A[i,j,k] = ReLU(Z[i,j,k]) = max(0, Z[i,j,k])' : `A[i,j,k] = ${activationOf(spec)}(Z[i,j,k])`,
      ],
      backward: [
        relu ? 'dZ = dA ⊙ ReLU′(Z)   (1 where A > 0, else 0)' : `dZ = dA ⊙ ${activationOf(spec)}′(Z)`,
        '∂L/∂K = Σ_{i,j} dout[i,j] · X_patch',
        '∂L/∂b = Σ_{i,j} dout[i,j]',
        '∂L/∂X = Σ_k K_k * dout_k',
      ],
    };
  },
};
