/**
 * Drawing small pixel arrays onto canvases, big and sharp: an image as the model saw it, a filter's
 * taps, one channel of a feature map. Used as a Svelte action, so the canvas redraws when its
 * pixels change.
 */
export interface Pixels {
  /** (H, W, C) uint8, C 1 (gray) or 3 (RGB). */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export function paint(canvas: HTMLCanvasElement, p: Pixels): void {
  canvas.width = p.width;
  canvas.height = p.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(p.width, p.height);
  for (let i = 0; i < p.width * p.height; i++) {
    const c = p.channels;
    image.data[4 * i] = p.data[c * i]!;
    image.data[4 * i + 1] = p.data[c * i + (c === 3 ? 1 : 0)]!;
    image.data[4 * i + 2] = p.data[c * i + (c === 3 ? 2 : 0)]!;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** `use:pixels={…}` on a canvas; CSS sizes it (image-rendering: pixelated keeps each pixel a square). */
export function pixels(canvas: HTMLCanvasElement, p: Pixels) {
  paint(canvas, p);
  return { update: (next: Pixels) => paint(canvas, next) };
}

/** Channel `c` of an (H, W, C) float map as gray bytes, black at `min`, white at `max`. */
export function channelBytes(values: Float32Array, h: number, w: number, channels: number, c: number, min: number, max: number): Uint8Array {
  const out = new Uint8Array(h * w);
  const span = max - min;
  for (let i = 0; i < h * w; i++) out[i] = span > 0 ? Math.round(((values[i * channels + c]! - min) / span) * 255) : 0;
  return out;
}
