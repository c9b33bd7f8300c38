/**
 * Small helpers the layer inspectors share: sums in the engine's own precision and order, the
 * activation's derivative read off its output, and the largest terms of a dot product.
 */
import type { FloatArray } from '../tensor.js';

/** How a buffer of this kind rounds each stored sum: float32 rounds, float64 keeps it. */
export function rounderOf(buffer: FloatArray): (v: number) => number {
  return buffer instanceof Float32Array ? Math.fround : (v: number) => v;
}

/**
 * The derivative of an activation at a unit, from the unit's output a = f(z) — what the layers'
 * backward uses (the ReLU's is 1 where a > 0, as in PyTorch, 0 at 0).
 */
export function activationSlope(activation: string, a: number, alpha = 0.01): number {
  switch (activation) {
    case 'relu': return a > 0 ? 1 : 0;
    case 'leakyRelu': return a > 0 ? 1 : alpha;
    case 'tanh': return 1 - a * a;
    case 'sigmoid': return a * (1 - a);
    default: return 1;
  }
}

/** The `count` entries of largest |value|, biggest first (ties: lower index first). */
export function largest<T>(items: T[], size: (t: T) => number, count: number): T[] {
  return items.map((t, i) => ({ t, i, s: Math.abs(size(t)) })).sort((a, b) => b.s - a.s || a.i - b.i).slice(0, count).map((e) => e.t);
}

/** Index of one image's (y, x, c) in an (H, W, C) buffer. */
export const at = (shape: readonly [number, number, number], y: number, x: number, c: number): number => (y * shape[1] + x) * shape[2] + c;
