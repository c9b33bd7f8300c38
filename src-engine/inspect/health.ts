/**
 * Training health, measured per layer after a step: the gradient's norm, the update's size against
 * the weights' (‖Δw‖ / ‖w‖), and — from a forward pass of the same batch in inference mode, which
 * draws no randomness and changes no weight — the share of ReLU units that were 0 for every image
 * of the batch (dead), the activations' mean and standard deviation, and whether any went
 * non-finite. And for a step whose loss was not finite: the first layer whose output (or weights)
 * went non-finite.
 */
import type { Model } from '../model.js';
import type { FloatArray } from '../tensor.js';
import { inspectedLayers, recorded, siteOf } from './probe.js';

export interface LayerHealth {
  index: number;
  label: string;
  /** ‖∂L/∂w‖ over the layer's parameters; null for a layer without parameters. */
  gradientNorm: number | null;
  /** ‖w_after − w_before‖ / ‖w_before‖; null without parameters. */
  updateRatio: number | null;
  /** Units of a ReLU layer that were 0 for every image of the batch, as a fraction; null when the layer is no ReLU (or its type has no inspector). */
  deadFraction: number | null;
  activationMean: number;
  activationStd: number;
  /** Output values that were NaN or ±∞. */
  nonFinite: number;
}

/** A parameter's offset in the model's flat buffer. */
function offsetOf(model: Model<FloatArray>, view: FloatArray): number {
  return (view.byteOffset - model.values.byteOffset) / model.values.BYTES_PER_ELEMENT;
}

/**
 * After a step on batch x (n images): `before` holds the values before the optimizer's update
 * (the trainer's previous values), model.values the values after, model.grads the batch's gradient.
 */
export function measureHealth(model: Model<FloatArray>, x: FloatArray, n: number, before: FloatArray): LayerHealth[] {
  // The model's own layers one after another, each output read where it lies before the next layer
  // runs: no copies, no watched layers (recorded() costs ~10× the forward pass; this runs during training).
  let a = x;
  return inspectedLayers(model).map((l) => {
    const layer = model.layers[l.index]!;
    const out = (a = layer.forward(a, n, false));
    let g2 = 0, w2 = 0, d2 = 0;
    for (const p of layer.params) {
      const start = offsetOf(model, p.value);
      for (let i = 0; i < p.value.length; i++) {
        const g = p.grad[i]!, w0 = before[start + i]!;
        g2 += g * g;
        w2 += w0 * w0;
        const d = p.value[i]! - w0;
        d2 += d * d;
      }
    }
    const hasParams = layer.params.length > 0;
    const size = out.length / n;
    const rectified = l.inspector?.rectified(model.spec.layers[l.index]! as never, siteOf(model, l.index)) ?? false;
    // one pass in memory order: the sums, the non-finite count, and (a ReLU's) which units were ever > 0
    const alive = rectified ? new Uint8Array(size) : null;
    let sum = 0, sq = 0, nonFinite = 0, finite = 0;
    for (let b = 0, i = 0; b < n; b++) {
      for (let u = 0; u < size; u++, i++) {
        const v = out[i]!;
        if (v - v !== 0) { nonFinite++; continue; } // NaN or ±∞
        sum += v;
        sq += v * v;
        finite++;
        if (alive && v > 0) alive[u] = 1;
      }
    }
    const mean = finite ? sum / finite : NaN;
    let deadFraction: number | null = null;
    if (alive) {
      let dead = 0;
      for (let u = 0; u < size; u++) dead += 1 - alive[u]!;
      deadFraction = dead / size;
    }
    return {
      index: l.index, label: l.label,
      gradientNorm: hasParams ? Math.sqrt(g2) : null,
      updateRatio: hasParams ? Math.sqrt(d2) / Math.max(Math.sqrt(w2), 1e-12) : null,
      deadFraction,
      activationMean: mean,
      activationStd: finite ? Math.sqrt(Math.max(sq / finite - mean * mean, 0)) : NaN,
      nonFinite,
    };
  });
}

export interface NonFiniteLayer {
  index: number;
  label: string;
  /** 'weights': its parameters were already non-finite; 'output': its output went non-finite on this batch. */
  what: 'weights' | 'output';
  /** Non-finite values out of all. */
  count: number;
  of: number;
}

/**
 * The first layer, in forward order, whose weights or output on batch x are non-finite with the
 * model's current values; null when every layer's output is finite (the loss itself overflowed).
 */
export function firstNonFinite(model: Model<FloatArray>, x: FloatArray, n: number): NonFiniteLayer | null {
  const bad = (a: ArrayLike<number>) => {
    let count = 0;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) count++;
    return count;
  };
  const { records } = recorded(model, () => model.forward(x, n, false));
  for (const l of inspectedLayers(model)) {
    const layer = model.layers[l.index]!;
    const weights = layer.params.reduce((s, p) => s + bad(p.value), 0);
    if (weights > 0) return { index: l.index, label: l.label, what: 'weights', count: weights, of: layer.params.reduce((s, p) => s + p.value.length, 0) };
    const out = records[l.index]!.output!;
    const count = bad(out);
    if (count > 0) return { index: l.index, label: l.label, what: 'output', count, of: out.length };
  }
  return null;
}
