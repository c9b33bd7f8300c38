/**
 * Data layout, written down once.
 *
 * Images and activations are NHWC, channel fastest:
 *   index(n, y, x, c) = ((n * H + y) * W + x) * C + c
 * Conv weights are (KH, KW, Cin, Cout):
 *   index(ky, kx, ci, co) = ((ky * KW + kx) * Cin + ci) * Cout + co
 * Dense weights are (in, out) so that z = a·W + b as the seed writes it:
 *   index(i, o) = i * OUT + o
 * Flatten keeps the H, W, C order, so it is a no-op on the bytes.
 *
 * This is also TensorFlow.js/Keras's layout.
 */

/** Either precision: models are float32; gradient checks build the same model in float64. */
export type FloatArray = Float32Array | Float64Array;

export type DType = 'float32' | 'float64';

/** Per-image shape [H, W, C]. A flat vector is [1, 1, N]. */
export type Shape3 = [number, number, number];

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function allocFloat(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** Grows a cached buffer only when a larger batch arrives; returns a view of exactly `length`. */
export function ensureCapacity<T extends FloatArray>(buf: T | null, length: number, dtype: DType): T {
  if (buf && buf.length >= length) return buf.subarray(0, length) as T;
  return allocFloat(dtype, length) as T;
}
