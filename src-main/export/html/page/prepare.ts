/**
 * The exported page's preparation of an image for the model: the studio's (datasets/
 * prepare-image.ts) done on the canvas's RGBA pixels instead of with sharp — alpha flattened onto
 * black, stretched to H×W (no crop, no padding), gray when every pixel is gray, then converted to
 * the dataset's channels with the import's Rec. 601 weights (datasets/transform.ts, the same code);
 * the model then sees the bytes ÷ 255. Each step is said in the studio's words.
 *
 * The one difference: sharp resizes with libvips's Lanczos-3 (and may shrink a JPEG while it
 * decodes); this page resizes with its own separable Lanczos-3, so a resized image can differ from
 * the studio's by a few grey levels (the export test measures it). An image already at the input
 * size (a dataset's own, a drawing) is prepared exactly as the studio prepares it.
 */
import { PREPARATION_STEPS as STEP } from '../../../datasets/preparation-steps.js';
import { toInputChannels } from '../../../datasets/transform.js';
import type { DeclaredChannels } from './file-header.js';

/** Canvas pixels: (H, W, 4) RGBA, not premultiplied (getImageData's). */
export interface RgbaImage {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

export interface PreparedPixels {
  /** (H, W, C) uint8 at the model's input shape. */
  pixels: Uint8Array;
  steps: string[];
}

type Shape = readonly [number, number, number];

/** A decoded file's pixels ("PNG", "JPEG"… as `format`), with what the file says it holds
 *  (./file-header.ts; null: judged from the pixels). */
export function prepareRgba(image: RgbaImage, format: string, declared: DeclaredChannels | null, shape: Shape): PreparedPixels {
  const { width, height, data } = image;
  const n = width * height;
  let anyAlpha = false, anyColour = false;
  for (let p = 0; p < n; p++) {
    if (data[4 * p + 3] !== 255) anyAlpha = true;
    if (data[4 * p] !== data[4 * p + 1] || data[4 * p] !== data[4 * p + 2]) anyColour = true;
  }
  const channels = declared?.channels ?? (anyColour ? 3 : 1) + (anyAlpha ? 1 : 0);
  const hasAlpha = declared?.alpha ?? anyAlpha;
  // as the studio: a file stored as colour is colour, even when its pixels turn out gray
  const colour = channels - (hasAlpha ? 1 : 0) >= 3;
  const steps = [STEP.decoded(format, width, height, channels, hasAlpha)];
  // as the import: alpha onto black (c · a / 255), before anything else
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const a = data[4 * p + 3]!;
    for (let ch = 0; ch < 3; ch++) rgb[3 * p + ch] = a === 255 ? data[4 * p + ch]! : Math.round((data[4 * p + ch]! * a) / 255);
  }
  if (hasAlpha) steps.push(STEP.flattened);
  return finish(rgb, 3, width, height, colour, shape, steps);
}

/** Gray pixels drawn on the page's pad, (H, W) uint8. */
export function prepareDrawn(pixels: Uint8Array, width: number, height: number, shape: Shape): PreparedPixels {
  return finish(pixels, 1, width, height, false, shape, [STEP.drawn(width, height, 1)]);
}

function finish(src: Uint8Array, channels: 1 | 3, width: number, height: number, colour: boolean, shape: Shape, steps: string[]): PreparedPixels {
  const [outH, outW, outC] = shape;
  let data = src;
  if (width !== outW || height !== outH) {
    data = resizeLanczos3(src, width, height, channels, outW, outH);
    steps.push(STEP.resized(width, height, outW, outH));
  } else steps.push(STEP.kept(outW, outH));
  return { pixels: toInputChannels(data, channels, outH * outW, outC, colour, steps), steps };
}

const lanczos3 = (x: number) => {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
};

/** Per output index, the input indices it reads and their normalised weights (half-pixel centres,
 *  the kernel widened by the shrink factor so a downscale averages instead of aliasing). */
function taps(inSize: number, outSize: number): { first: number[]; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const support = 3 * stretch;
  const first: number[] = [];
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const lo = Math.ceil(centre - support), hi = Math.floor(centre + support);
    const w = new Float64Array(hi - lo + 1);
    let sum = 0;
    for (let i = lo; i <= hi; i++) sum += (w[i - lo] = lanczos3((i - centre) / stretch));
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    first.push(lo);
    weights.push(w);
  }
  return { first, weights };
}

/** src (H, W, C) uint8 → (OH, OW, C) uint8: rows, then columns; edges repeat the border pixel. */
export function resizeLanczos3(src: Uint8Array, w: number, h: number, c: number, outW: number, outH: number): Uint8Array {
  const tx = taps(w, outW), ty = taps(h, outH);
  const mid = new Float64Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const lo = tx.first[ox]!, wt = tx.weights[ox]!;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let k = 0; k < wt.length; k++) s += wt[k]! * src[(y * w + Math.min(w - 1, Math.max(0, lo + k))) * c + ch]!;
        mid[(y * outW + ox) * c + ch] = s;
      }
    }
  }
  const out = new Uint8Array(outH * outW * c);
  for (let oy = 0; oy < outH; oy++) {
    const lo = ty.first[oy]!, wt = ty.weights[oy]!;
    for (let ox = 0; ox < outW; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let k = 0; k < wt.length; k++) s += wt[k]! * mid[(Math.min(h - 1, Math.max(0, lo + k)) * outW + ox) * c + ch]!;
        out[(oy * outW + ox) * c + ch] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}
