/**
 * Datasets as the trainer sees them, batch gathering and seeded augmentation.
 * Images are NHWC; uint8 images (0..255) are scaled by 1/255 as they are gathered, so a whole
 * dataset can stay in uint8 (4× less memory) and only a batch is ever float.
 */
import { InputError, type Model } from './model.js';
import type { Rng } from './rng.js';

export interface Dataset {
  images: Float32Array | Uint8Array;
  labels: ArrayLike<number>;
  n: number;
}

export function checkDataset(name: string, d: Dataset, inputSize: number, classes: number): void {
  if (!d || !Number.isInteger(d.n) || d.n <= 0) throw new InputError(`${name} set is empty`);
  if (d.images.length !== d.n * inputSize) {
    throw new InputError(`${name} set has ${d.images.length} values, expected ${d.n} images × ${inputSize} = ${d.n * inputSize}`);
  }
  if (d.labels.length !== d.n) throw new InputError(`${name} set has ${d.labels.length} labels for ${d.n} images`);
  for (let i = 0; i < d.n; i++) {
    const y = d.labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new InputError(`${name} label #${i} is ${y}; labels must be integers in [0, ${classes})`);
  }
  if (d.images instanceof Float32Array) {
    const x = d.images;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) throw new InputError(`${name} value #${i} (image ${Math.floor(i / inputSize)}) is ${x[i]}; inputs must be finite`);
    }
  }
}

// images (N,H,W,C) → x (m,H,W,C) float, labels → y (m), for images indices[start..start+m)
// (or start..start+m when indices is null)
export function gatherBatch(d: Dataset, indices: ArrayLike<number> | null, start: number, m: number, inputSize: number, x: Float32Array, y: Int32Array): void {
  const src = d.images;
  const scale = src instanceof Uint8Array ? 1 / 255 : 1;
  for (let b = 0; b < m; b++) {
    const idx = indices ? indices[start + b]! : start + b;
    const from = idx * inputSize;
    const to = b * inputSize;
    if (scale === 1) x.set((src as Float32Array).subarray(from, from + inputSize), to);
    else for (let i = 0; i < inputSize; i++) x[to + i] = src[from + i]! * scale;
    y[b] = d.labels[idx]!;
  }
}

export interface AugmentConfig {
  /** Mirror each image left-right with probability 1/2. */
  flipHorizontal?: boolean;
  /** Shift each image by up to this many pixels in x and y (zero fill). */
  maxShift?: number;
}

/** Seeded, in place on the batch; `tmp` holds one image. The draws per image are fixed (flip, dy, dx)
 *  so the stream stays aligned whatever the options. */
export function augmentBatch(cfg: AugmentConfig, rng: Rng, x: Float32Array, m: number, h: number, w: number, c: number, tmp: Float32Array): void {
  const k = Math.max(0, Math.floor(cfg.maxShift ?? 0));
  const size = h * w * c;
  for (let b = 0; b < m; b++) {
    const flip = cfg.flipHorizontal ? rng.next() < 0.5 : false;
    const dy = k > 0 ? rng.int(2 * k + 1) - k : 0;
    const dx = k > 0 ? rng.int(2 * k + 1) - k : 0;
    if (!flip && dy === 0 && dx === 0) continue;
    const img = x.subarray(b * size, (b + 1) * size);
    tmp.set(img);
    for (let yy = 0; yy < h; yy++) {
      const sy = yy - dy;
      for (let xx = 0; xx < w; xx++) {
        let sx = xx - dx;
        if (flip) sx = w - 1 - sx;
        const o = (yy * w + xx) * c;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          for (let ci = 0; ci < c; ci++) img[o + ci] = 0;
        } else {
          const s = (sy * w + sx) * c;
          for (let ci = 0; ci < c; ci++) img[o + ci] = tmp[s + ci]!;
        }
      }
    }
  }
}

/** Loss and accuracy over a whole dataset, in chunks as large as the x and y buffers given. */
export function evaluateDataset(model: Model, d: Dataset, x: Float32Array, y: Int32Array): { loss: number; accuracy: number; correct: number } {
  const chunk = Math.min(y.length, Math.floor(x.length / model.inputSize));
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < d.n; start += chunk) {
    const m = Math.min(chunk, d.n - start);
    gatherBatch(d, null, start, m, model.inputSize, x, y);
    const r = model.evaluateBatch(x.subarray(0, m * model.inputSize), y.subarray(0, m), m);
    lossSum += r.lossSum;
    correct += r.correct;
  }
  return { loss: lossSum / d.n, accuracy: correct / d.n, correct };
}
