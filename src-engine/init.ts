/**
 * Weight initialisation from a seeded PRNG: He normal (std = √(2/fanIn)) for layers followed by a
 * ReLU, Glorot uniform (limit = √(6/(fanIn+fanOut))) otherwise. Biases start at zero.
 */
import type { Param } from './layers/layer.js';
import type { Rng } from './rng.js';
import type { FloatArray } from './tensor.js';

export function heNormal(rng: Rng, w: FloatArray, fanIn: number): void {
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
}

export function glorotUniform(rng: Rng, w: FloatArray, fanIn: number, fanOut: number): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
}

/** A weight whose last two axes are (inputs, outputs) — conv (KH, KW, Cin, Cout), dense (in, out):
 *  fanIn = KH·KW·Cin, fanOut = KH·KW·Cout. He normal when a ReLU follows, else Glorot uniform. */
export function initWeight(rng: Rng, weight: Param, relu: boolean): void {
  const shape = weight.shape;
  const cout = shape[shape.length - 1]!;
  const fanIn = weight.value.length / cout;
  const fanOut = (fanIn / shape[shape.length - 2]!) * cout;
  if (relu) heNormal(rng, weight.value, fanIn);
  else glorotUniform(rng, weight.value, fanIn, fanOut);
}
