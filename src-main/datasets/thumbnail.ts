/** PNG of one cached image, for thumbnails (e.g. misclassified samples in the evaluation view). */
import sharp from 'sharp';
import type { CachedTensors } from './types.js';

/**
 * Encodes image `index` of a split as PNG, upscaled by an integer `scale` with nearest-neighbour
 * (28×28 digits are unreadable at 1:1 on a high-DPI screen, and smoothing would invent detail).
 */
export async function imagePng(tensors: CachedTensors, split: 'train' | 'test', index: number, scale = 1): Promise<Buffer> {
  const set = split === 'train' ? tensors.train : tensors.test;
  if (!set) throw new RangeError(`imagePng: the dataset has no ${split} split`);
  if (!Number.isInteger(index) || index < 0 || index >= set.n) throw new RangeError(`imagePng: ${split} index ${index} outside 0..${set.n - 1}`);
  if (!Number.isInteger(scale) || scale < 1 || scale > 32) throw new RangeError(`imagePng: scale ${scale} must be an integer 1..32`);
  const [h, w, c] = tensors.shape;
  const size = h * w * c;
  const pixels = Buffer.from(set.images.buffer, set.images.byteOffset + index * size, size);
  let image = sharp(pixels, { raw: { width: w, height: h, channels: c as 1 | 3 } });
  if (scale > 1) image = image.resize(w * scale, h * scale, { kernel: 'nearest' });
  if (c === 1) image = image.toColourspace('b-w');
  return image.png().toBuffer();
}
