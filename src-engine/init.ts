/**
 * Weight initialisation from a seeded PRNG: He normal (std = √(2/fanIn)) for layers followed by a
 * ReLU, Glorot uniform (limit = √(6/(fanIn+fanOut))) otherwise. Biases start at zero.
 */
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
