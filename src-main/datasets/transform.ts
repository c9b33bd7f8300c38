/** Channel conversion and resizing of decoded uint8 NHWC tensors (for IDX/CSV, which sharp never sees). */
import type { TensorSplit } from './cache.js';
import { PREPARATION_STEPS } from './preparation-steps.js';

/** Rec. 601 luma, the usual RGB → gray weights, rounded. */
export function rgbToGray(rgb: Uint8Array, pixels: number, out: Uint8Array, outOffset = 0): void {
  for (let p = 0; p < pixels; p++) {
    const r = rgb[3 * p]!, g = rgb[3 * p + 1]!, b = rgb[3 * p + 2]!;
    out[outOffset + p] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
}

export function grayToRgb(gray: Uint8Array, pixels: number, out: Uint8Array, outOffset = 0): void {
  for (let p = 0; p < pixels; p++) {
    const v = gray[p]!;
    out[outOffset + 3 * p] = v;
    out[outOffset + 3 * p + 1] = v;
    out[outOffset + 3 * p + 2] = v;
  }
}

export function convertChannels(split: TensorSplit, shape: [number, number, number], channels: 1 | 3): TensorSplit {
  const [h, w, c] = shape;
  if (c === channels) return split;
  const pixels = h * w;
  const images = new Uint8Array(split.n * pixels * channels);
  for (let i = 0; i < split.n; i++) {
    const image = split.images.subarray(i * pixels * c, (i + 1) * pixels * c);
    if (channels === 1) rgbToGray(image, pixels, images, i * pixels);
    else grayToRgb(image, pixels, images, i * pixels * 3);
  }
  return { images, labels: split.labels, n: split.n };
}

/**
 * Bilinear resize with half-pixel centres (the convention of sharp/OpenCV/PyTorch align_corners=False).
 * image (H, W, C) → out (OH, OW, C).
 */
export function resizeBilinear(image: Uint8Array, shape: [number, number, number], outH: number, outW: number, out: Uint8Array, outOffset = 0): void {
  const [h, w, c] = shape;
  const scaleY = h / outH, scaleX = w / outW;
  for (let oy = 0; oy < outH; oy++) {
    const sy = Math.min(Math.max((oy + 0.5) * scaleY - 0.5, 0), h - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let ox = 0; ox < outW; ox++) {
      const sx = Math.min(Math.max((ox + 0.5) * scaleX - 0.5, 0), w - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0;
      for (let ch = 0; ch < c; ch++) {
        const top = image[(y0 * w + x0) * c + ch]! * (1 - fx) + image[(y0 * w + x1) * c + ch]! * fx;
        const bottom = image[(y1 * w + x0) * c + ch]! * (1 - fx) + image[(y1 * w + x1) * c + ch]! * fx;
        out[outOffset + (oy * outW + ox) * c + ch] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
}

export function resizeSplit(split: TensorSplit, shape: [number, number, number], outH: number, outW: number): TensorSplit {
  const [h, w, c] = shape;
  if (h === outH && w === outW) return split;
  const inSize = h * w * c, outSize = outH * outW * c;
  const images = new Uint8Array(split.n * outSize);
  for (let i = 0; i < split.n; i++) resizeBilinear(split.images.subarray(i * inSize, (i + 1) * inSize), shape, outH, outW, images, i * outSize);
  return { images, labels: split.labels, n: split.n };
}

/**
 * The end of preparing one image for a model, the same for the studio (sharp's pixels,
 * prepare-image.ts) and the exported page (the canvas's, export/html/page/prepare.ts): RGB whose
 * channels are equal everywhere is taken as gray, as the import does, then the dataset's channels
 * with the import's weights. Appends the words of each step done to `steps`, ending with the ÷ 255
 * the model's input does.
 */
export function toInputChannels(data: Uint8Array, channels: number, pixels: number, outC: number, colour: boolean, steps: string[]): Uint8Array {
  if (channels === 3 && allChannelsEqual(data, pixels)) {
    // sharp and the canvas both hand gray images over as RGB; the import keeps one channel
    const one = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++) one[p] = data[3 * p]!;
    data = one;
    channels = 1;
    if (colour) steps.push(PREPARATION_STEPS.takenAsGray);
  }
  const out = new Uint8Array(pixels * outC);
  if (channels === outC) out.set(data.subarray(0, out.length));
  else if (outC === 1) {
    rgbToGray(data, pixels, out);
    steps.push(PREPARATION_STEPS.toGray);
  } else {
    grayToRgb(data, pixels, out);
    steps.push(PREPARATION_STEPS.toColour);
  }
  steps.push(PREPARATION_STEPS.scaled);
  return out;
}

function allChannelsEqual(data: Uint8Array, pixels: number): boolean {
  for (let p = 0; p < pixels; p++) if (data[3 * p] !== data[3 * p + 1] || data[3 * p] !== data[3 * p + 2]) return false;
  return true;
}
