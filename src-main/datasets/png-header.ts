/**
 * A PNG's size and colour read from its first bytes, without a decoder: the folder importer reads every
 * file's header before decoding any, and for the common case (PNG) this costs a 64 KiB read and a few
 * comparisons instead of a whole-file read and a sharp call per file.
 *
 *   signature (8) · IHDR chunk: length 13, "IHDR", width (4), height (4), bit depth, colour type, … CRC
 *   colour types: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGB + alpha
 */
import { crc32 } from 'node:zlib';

export interface PngHeader {
  width: number;
  height: number;
  /** declares colour (RGB or a palette, which may hold colours); gray files may still decode as sRGB */
  colour: boolean;
}

/** How much of a file to read for pngHeader. */
export const PNG_HEAD_BYTES = 64 * 1024;

/**
 * The header of a PNG from its first bytes; 'corrupt' when IHDR is missing or damaged; null when this
 * reader cannot decide and the decoder must (an eXIf chunk may rotate the image, or no IDAT in `head`).
 */
export function pngHeader(head: Uint8Array): PngHeader | 'corrupt' | null {
  const view = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (view.length < 33 || view.readUInt32BE(8) !== 13 || view.toString('latin1', 12, 16) !== 'IHDR') return 'corrupt';
  if (crc32(view.subarray(12, 29)) !== view.readUInt32BE(29)) return 'corrupt';
  const width = view.readUInt32BE(16);
  const height = view.readUInt32BE(20);
  const colourType = view[25]!;
  if (width === 0 || height === 0 || ![0, 2, 3, 4, 6].includes(colourType)) return 'corrupt';
  // EXIF orientation lives in an eXIf chunk, which must come before the image data
  for (let at = 33; at + 8 <= view.length; ) {
    const type = view.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') return { width, height, colour: colourType === 2 || colourType === 3 || colourType === 6 };
    if (type === 'eXIf') return null;
    at += 12 + view.readUInt32BE(at);
  }
  return null;
}
