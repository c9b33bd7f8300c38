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
 * The error of parameter `name`'s gradient: relativeError, except for two biases measured on the
 * scale of their layer's weight gradient (`weightGrad`) as well as their own:
 * - a bias right before batch norm (after a linear conv or dense layer): its gradient is exactly 0,
 *   both sides are rounding noise;
 * - a batch norm's shift (β): its gradient Σ dy nearly cancels when a later batch norm makes the
 *   gradient zero-sum over the batch (seen: 30× smaller than its γ's, with the same absolute error).
 */
export function gradientError(name: string, ours: ArrayLike<number>, expected: ArrayLike<number>,
  weightGrad: ArrayLike<number> | undefined, layers: readonly { type: string }[]): number {
  const layer = Number(name.match(/(\d+)\.\w+$/)?.[1]); // 1-based: layers[layer] is the next layer
  const beforeBatchNorm = layers[layer]?.type === 'batchnorm';
  const batchNormShift = layers[layer - 1]?.type === 'batchnorm';
  if (!(name.endsWith('.bias') && (beforeBatchNorm || batchNormShift) && weightGrad)) return relativeError(ours, expected);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - expected[i]!));
    if (batchNormShift) scale = Math.max(scale, Math.abs(expected[i]!));
  }
  for (let i = 0; i < weightGrad.length; i++) scale = Math.max(scale, Math.abs(weightGrad[i]!));
  return diff / Math.max(scale, 1e-6);
}
