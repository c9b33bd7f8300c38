/**
 * Weight initialisation from a seeded PRNG: He normal (std = √(gain/fanIn), gain 2 for a ReLU and
 * 2/(1 + α²) for a leaky ReLU, as PyTorch's kaiming_normal_) for layers followed by a rectifier,
 * Glorot uniform (limit = √(6/(fanIn+fanOut))) otherwise. Biases start at zero.
 */
import type { Param } from './layers/layer.js';
import type { Rng } from './rng.js';
import type { FloatArray } from './tensor.js';

export function heNormal(rng: Rng, w: FloatArray, fanIn: number, gain = 2): void {
  const std = Math.sqrt(gain / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
}

export function glorotUniform(rng: Rng, w: FloatArray, fanIn: number, fanOut: number): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
}

/** A weight whose last two axes are (inputs, outputs) — conv (KH, KW, Cin, Cout), dense (in, out):
 *  fanIn = KH·KW·Cin, fanOut = KH·KW·Cout. He normal with `gain` when a rectifier follows (see
 *  layers/activation.ts initGain), Glorot uniform when `gain` is null. */
export function initWeight(rng: Rng, weight: Param, gain: number | null): void {
  const shape = weight.shape;
  const cout = shape[shape.length - 1]!;
  const fanIn = weight.value.length / cout;
  const fanOut = (fanIn / shape[shape.length - 2]!) * cout;
  if (gain !== null) heNormal(rng, weight.value, fanIn, gain);
  else glorotUniform(rng, weight.value, fanIn, fanOut);
}
