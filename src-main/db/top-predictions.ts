/**
 * The stored top-k of an evaluation: per evaluated image (in the evaluated set's order) its k likeliest
 * classes and their probabilities. The one reader and writer of the `evaluations.top_predictions` bytes.
 *
 *   byte 0: k (1..255) · bytes 1–3: 0 · then n·k float32 (little-endian) probabilities · then n·k uint8 classes
 *
 * The floats come first so they sit 4-byte aligned; image i's slots are i·k … i·k + k − 1, likeliest first.
 */

/** How many classes an evaluation keeps per image (the gallery shows three). */
export const TOP_K = 3;

const HEADER = 4;

export function topPredictionsBytes(n: number, k: number): number {
  return HEADER + n * k * 5;
}

/** An empty top-k record for n images, to be filled with `setTop`. */
export function newTopPredictions(n: number, k: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(topPredictionsBytes(n, k));
  bytes[0] = k;
  return bytes;
}

/** Writes image i's k likeliest classes from its class probabilities (one row of softmax). */
export function setTop(bytes: Uint8Array, n: number, i: number, probabilities: ArrayLike<number>): void {
  const k = bytes[0]!;
  const probs = new DataView(bytes.buffer, bytes.byteOffset + HEADER, n * k * 4);
  const classes = bytes.subarray(HEADER + n * k * 4);
  // a partial selection sort: k is 3, the classes a few dozen at most
  const taken: number[] = [];
  for (let s = 0; s < k; s++) {
    let best = -1;
    for (let c = 0; c < probabilities.length; c++) {
      if (taken.includes(c)) continue;
      if (best < 0 || probabilities[c]! > probabilities[best]!) best = c;
    }
    taken.push(best);
    classes[i * k + s] = best;
    probs.setFloat32((i * k + s) * 4, probabilities[best]!, true);
  }
}

/** Image i's k likeliest classes, likeliest first. */
export function topOf(bytes: Uint8Array, n: number, i: number): { classIndex: number; probability: number }[] {
  const k = bytes[0]!;
  if (bytes.length !== topPredictionsBytes(n, k)) throw new Error(`top predictions: ${bytes.length} bytes, expected ${topPredictionsBytes(n, k)} for ${n} images × ${k}`);
  const probs = new DataView(bytes.buffer, bytes.byteOffset + HEADER, n * k * 4);
  const classes = bytes.subarray(HEADER + n * k * 4);
  return Array.from({ length: k }, (_, s) => ({ classIndex: classes[i * k + s]!, probability: probs.getFloat32((i * k + s) * 4, true) }));
}
