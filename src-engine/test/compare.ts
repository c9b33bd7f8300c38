/** How tests compare tensors: the largest absolute difference over the largest expected magnitude. */
export function relativeError(ours: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (ours.length !== expected.length) throw new Error(`length ${ours.length} ≠ expected ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-6);
}

/**
 * The error of parameter `name`'s gradient: relativeError, except for a bias right before batch
 * norm (after a linear conv or dense layer), whose gradient is exactly 0 — both sides are rounding
 * noise — measured instead on the scale of its layer's weight gradient (`weightGrad`).
 */
export function gradientError(name: string, ours: ArrayLike<number>, expected: ArrayLike<number>,
  weightGrad: ArrayLike<number> | undefined, layers: readonly { type: string }[]): number {
  const next = Number(name.match(/(\d+)\.\w+$/)?.[1]); // the layer number is 1-based: the next layer's index
  if (!(name.endsWith('.bias') && layers[next]?.type === 'batchnorm' && weightGrad)) return relativeError(ours, expected);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(ours[i]! - expected[i]!));
  for (let i = 0; i < weightGrad.length; i++) scale = Math.max(scale, Math.abs(weightGrad[i]!));
  return diff / Math.max(scale, 1e-6);
}
