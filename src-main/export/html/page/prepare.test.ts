/**
 * The exported page's preparation against the studio's (datasets/prepare-image.ts, with sharp), on
 * the same files: the page gets the RGBA a canvas would give (sharp decodes it here — for PNG the
 * decoders agree), the studio the file's bytes. At the input size the pixels and the steps must be
 * the studio's exactly; a resized image within the measured distance of sharp's Lanczos-3.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { prepareImage } from '../../../datasets/prepare-image.js';
import { declaredChannels } from './file-header.js';
import { prepareDrawn, prepareRgba } from './prepare.js';

const MAX_PIXELS = 50_000_000;

async function png(width: number, height: number, channels: 1 | 3 | 4, pixel: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = pixel(x, y, c);
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

async function both(file: Buffer, shape: [number, number, number]) {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const page = prepareRgba({ width: info.width, height: info.height, data }, 'png', declaredChannels(file), shape);
  const studio = await prepareImage({ type: 'bytes', bytes: file, name: 'x.png' }, shape, MAX_PIXELS);
  return { page, studio };
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('the page prepares images as the studio does', () => {
  it('gray 28×28 PNG → 28×28×1: the same bytes and the same steps', async () => {
    const { page, studio } = await both(await png(28, 28, 1, (x, y) => (x * 9 + y * 5) % 256), [28, 28, 1]);
    expect(page.steps).toEqual(studio.steps);
    expect(Buffer.from(page.pixels).equals(Buffer.from(studio.pixels))).toBe(true);
  });

  it('a PNG stored as gray (colour type 0) → 28×28×1: "gray", the same bytes', async () => {
    const raw = Buffer.from(Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 7) % 256));
    const file = await sharp(raw, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect(declaredChannels(file)).toEqual({ channels: 1, alpha: false });
    const { page, studio } = await both(file, [28, 28, 1]);
    expect(page.steps[0]).toBe('decoded PNG 28×28, gray');
    expect(page.steps).toEqual(studio.steps);
    expect(Buffer.from(page.pixels).equals(Buffer.from(studio.pixels))).toBe(true);
  });

  it('file headers: PNG colour types and a JPEG\'s components, as sharp reports them', async () => {
    const rgb = Buffer.alloc(4 * 4 * 3, 90);
    for (const [file, channels] of [[await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).jpeg().toBuffer(), 3],
      [await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).toColourspace('b-w').jpeg().toBuffer(), 1],
      [await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).ensureAlpha().png().toBuffer(), 4]] as const) {
      const meta = await sharp(file).metadata();
      expect(declaredChannels(file)).toEqual({ channels: meta.channels, alpha: meta.hasAlpha });
      expect(channels).toBe(meta.channels);
    }
    expect(declaredChannels(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('colour 28×28 PNG → gray: Rec. 601, the same bytes and steps', async () => {
    const { page, studio } = await both(await png(28, 28, 3, (x, y, c) => [x * 9, y * 9, (x + y) * 4][c]! % 256), [28, 28, 1]);
    expect(page.steps).toEqual(studio.steps);
    expect(page.steps).toContain('converted to grayscale (Rec. 601 luma: 0.299 R + 0.587 G + 0.114 B)');
    expect(Buffer.from(page.pixels).equals(Buffer.from(studio.pixels))).toBe(true);
  });

  it('colour with alpha 28×28 → flattened onto black, gray', async () => {
    const { page, studio } = await both(await png(28, 28, 4, (x, y, c) => (c === 3 ? (x * 10) % 256 : [200, 120, 40][c]!)), [28, 28, 1]);
    expect(page.steps).toEqual(studio.steps);
    expect(page.steps).toContain('flattened the alpha onto black');
    expect(maxDiff(page.pixels, studio.pixels)).toBeLessThanOrEqual(1);
  });

  it('gray into a colour model: copied into 3 channels', async () => {
    const { page, studio } = await both(await png(8, 8, 1, (x) => x * 30), [8, 8, 3]);
    expect(page.steps).toEqual(studio.steps);
    expect(Buffer.from(page.pixels).equals(Buffer.from(studio.pixels))).toBe(true);
  });

  it('colour 60×45 → 28×28 gray: stretched with Lanczos-3, within a few levels of sharp\'s', async () => {
    const { page, studio } = await both(await png(60, 45, 3, (x, y, c) => Math.round(127 + 120 * Math.sin((x + 2 * c) / 5) * Math.cos(y / 7))), [28, 28, 1]);
    expect(page.steps).toEqual(studio.steps);
    expect(page.steps).toContain('resized 60×45 → 28×28 (stretched, as the import resizes)');
    const diff = maxDiff(page.pixels, studio.pixels);
    const mean = page.pixels.reduce((s, v, i) => s + Math.abs(v - studio.pixels[i]!), 0) / page.pixels.length;
    console.log(`page vs sharp resize 60×45 → 28×28: max ${diff}, mean ${mean.toFixed(2)} grey levels`);
    expect(diff).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThanOrEqual(0.5);
  });

  it('a sharp-edged 640×480 photo-sized image → 28×28: a big shrink is a few levels off sharp\'s', async () => {
    const { page, studio } = await both(await png(640, 480, 3, (x, y, c) => ((Math.floor(x / 37) + Math.floor(y / 23)) % 2 ? 230 : 20) - c * 5), [28, 28, 1]);
    expect(page.steps).toContain('resized 640×480 → 28×28 (stretched, as the import resizes)');
    const diff = maxDiff(page.pixels, studio.pixels);
    const mean = page.pixels.reduce((s, v, i) => s + Math.abs(v - studio.pixels[i]!), 0) / page.pixels.length;
    console.log(`page vs sharp resize 640×480 → 28×28 (checkerboard): max ${diff}, mean ${mean.toFixed(2)} grey levels`);
    expect(diff).toBeLessThanOrEqual(24);
    expect(mean).toBeLessThanOrEqual(6);
  });

  it('a drawing at the input size is kept as drawn', async () => {
    const drawn = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i % 7) * 40);
    const page = prepareDrawn(drawn, 28, 28, [28, 28, 1]);
    const studio = await prepareImage({ type: 'pixels', width: 28, height: 28, channels: 1, pixels: drawn }, [28, 28, 1], MAX_PIXELS);
    expect(page.steps).toEqual(studio.steps);
    expect(Buffer.from(page.pixels).equals(Buffer.from(studio.pixels))).toBe(true);
  });
});
