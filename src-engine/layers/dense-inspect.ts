/**
 * What the inspection tools know of a dense layer: every output reads every input, and the
 * step-through's numbers for one output unit — the largest terms of a·W, the bias, z, the
 * activation — and on the way back dz, db, the largest entries of dW and the size of da; for the
 * softmax head the formulas of the seed document's softmax and its gradient p − onehot.
 */
import { activationSlope, largest, rounderOf } from '../inspect/numbers.js';
import type { LayerInspector } from '../inspect/types.js';
import type { DenseSpec } from '../spec.js';
import { denseActivation } from './dense.js';

const TERMS = 8;

export const denseInspector: LayerInspector<DenseSpec> = {
  receptiveField: () => 'whole',
  featureMaps: false,
  rectified: (spec, { isLast }) => denseActivation(spec, isLast) === 'relu',

  forward(spec, { isLast }, io, unit) {
    const o = unit[2];
    const inDim = io.inShape[2];
    const units = io.outShape[2];
    const [weight, bias] = io.params;
    // the reference kernel's order and precision: the bias, then a_i·W[i, o] for each non-zero a_i
    const round = rounderOf(io.output);
    let z = bias!.value[o]!;
    let dot = 0;
    const terms: { i: number; a: number; w: number; product: number }[] = [];
    for (let i = 0; i < inDim; i++) {
      const a = io.input[i]!;
      const w = weight!.value[i * units + o]!;
      terms.push({ i, a, w, product: a * w });
      if (a === 0) continue;
      z = round(z + a * w);
      dot = round(dot + a * w);
    }
    const act = denseActivation(spec, isLast);
    return {
      kind: 'dense', unit, inputs: inDim, terms: largest(terms, (t) => t.product, TERMS), dot, bias: bias!.value[o]!, z,
      activation: act === 'softmax' ? 'none (the logits; softmax is in the loss)' : act, a: io.output[o]!,
    };
  },

  backward(spec, { isLast }, io, unit) {
    const o = unit[2];
    const units = io.outShape[2];
    const [weight, bias] = io.params;
    const act = denseActivation(spec, isLast);
    const slope = act === 'softmax' ? 1 : activationSlope(act, io.output[o]!, (spec as { alpha?: number }).alpha ?? 0.01);
    const inputs = Array.from({ length: io.inShape[2] }, (_, i) => ({ i, a: io.input[i]!, dW: weight!.grad[i * units + o]! }));
    let daNorm = 0;
    for (let i = 0; i < io.dx!.length; i++) daNorm += io.dx![i]! * io.dx![i]!;
    return {
      kind: 'dense', unit, dz: io.dout![o]! * slope, slope, db: bias!.grad[o]!, terms: largest(inputs, (t) => t.dW, TERMS), daNorm: Math.sqrt(daNorm),
    };
  },

  formulas(spec, { isLast }) {
    const act = denseActivation(spec, isLast);
    if (act === 'softmax') {
      return {
        forward: ['z = a · W + b', 'ŷ_i = e^{z_i} / Σ_j e^{z_j}   (in the loss, fused with the cross-entropy)'],
        backward: ['dW = aᵀ · (ŷ − y),   db = ŷ − y,   da = (ŷ − y) · Wᵀ'],
      };
    }
    return {
      forward: ['z = a · W + b', act === 'relu' ? 'a′ = ReLU(z) = max(0, z)' : `a′ = ${act}(z)`],
      backward: [act === 'relu' ? 'dz = da′ ⊙ ReLU′(z)' : `dz = da′ ⊙ ${act}′(z)`, 'dW = aᵀ · dz,   db = dz,   da = dz · Wᵀ'],
    };
  },
};
