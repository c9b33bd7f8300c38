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
