/**
 * One image brought to a model's input the way a folder import brings its files (folder.ts's
 * decodeImage): upright from EXIF, alpha flattened onto black, stretched to H×W with sharp's
 * resize (fit 'fill', its default kernel), gray when every pixel is gray, then converted to the
 * dataset's channels with the import's Rec. 601 weights; the model then sees the bytes ÷ 255.
 * Each thing done is said in words, so the "Try it" view can show what happened to the image.
 * A test imports a folder and checks that its cached pixels equal this module's.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { PREPARATION_STEPS as STEP } from './preparation-steps.js';
import { toInputChannels } from './transform.js';

/** Encoded file bytes (PNG, JPEG, WebP, GIF, TIFF…) or raw H×W×C uint8 pixels (a drawing). */
export type ImageSource =
  | { type: 'bytes'; bytes: Uint8Array; name?: string }
  | { type: 'pixels'; width: number; height: number; channels: 1 | 3; pixels: Uint8Array };

export interface Prepared {
  /** (H, W, C) uint8 at the model's input shape. */
  pixels: Uint8Array;
  /** What was done, in order, in plain words. */
  steps: string[];
}

/** A file that is not an image, or one that is too large, in words for the caller. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
}

export async function prepareImage(source: ImageSource, shape: readonly [number, number, number], maxPixels: number): Promise<Prepared> {
  const [outH, outW, outC] = shape;
  const steps: string[] = [];
  let image: Sharp;
  let width: number, height: number, hasAlpha: boolean, colour: boolean;
  if (source.type === 'pixels') {
    if (source.pixels.length !== source.width * source.height * source.channels) {
      throw new ImageInputError(`drawn pixels: ${source.pixels.length} bytes for ${source.height}×${source.width}×${source.channels}`);
    }
    image = sharp(source.pixels, { raw: { width: source.width, height: source.height, channels: source.channels } });
    ({ width, height } = source);
    hasAlpha = false;
    colour = source.channels === 3;
    steps.push(STEP.drawn(width, height, source.channels));
  } else {
    let meta: Metadata;
    try {
      meta = await sharp(source.bytes).metadata();
    } catch (e) {
      throw new ImageInputError(`${source.name ?? 'the file'} is not an image this studio can read (PNG, JPEG, WebP, GIF, TIFF): ${(e as Error).message}`);
    }
    width = meta.autoOrient?.width ?? meta.width;
    height = meta.autoOrient?.height ?? meta.height;
    if (!(width > 0 && height > 0)) throw new ImageInputError(`${source.name ?? 'the file'} has no readable size in its header`);
    if (width * height > maxPixels) throw new ImageInputError(`${width}×${height} pixels, more than the limit of ${maxPixels} pixels per image`);
    hasAlpha = meta.hasAlpha ?? false;
    colour = (meta.channels ?? 3) - (hasAlpha ? 1 : 0) >= 3;
    steps.push(STEP.decoded(meta.format, width, height, meta.channels ?? 3, hasAlpha));
    if ((meta.orientation ?? 1) > 1) steps.push(`turned upright (EXIF orientation ${meta.orientation})`);
    image = sharp(source.bytes, { autoOrient: true, limitInputPixels: Math.floor(maxPixels) });
  }
  // as the import: alpha onto black, then a stretch (no crop, no padding) to the model's size
  image = image.flatten({ background: '#000000' });
  if (hasAlpha) steps.push(STEP.flattened);
  if (width !== outW || height !== outH) {
    image = image.resize(outW, outH, { fit: 'fill' });
    steps.push(STEP.resized(width, height, outW, outH));
  } else steps.push(STEP.kept(outW, outH));
  let data: Buffer, channels: number;
  try {
    const out = await image.raw().toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
  } catch (e) {
    throw new ImageInputError(`${source.type === 'bytes' ? (source.name ?? 'the file') : 'the drawing'} could not be decoded: ${(e as Error).message}`);
  }
  return { pixels: toInputChannels(data, channels, outH * outW, outC, colour, steps), steps };
}
