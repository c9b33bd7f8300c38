import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pngHeader } from '../png-header.js';
import { encodeImage } from './fixtures.js';

describe('pngHeader (the folder importer\'s header pass for PNG)', () => {
  it('gray 5×3 → not colour; RGB and RGBA → colour; a palette counts as colour (an upper bound)', async () => {
    expect(pngHeader(await encodeImage(Buffer.alloc(15, 7), 3, 5, 1, 'png'))).toEqual({ width: 5, height: 3, colour: false });
    expect(pngHeader(await encodeImage(Buffer.alloc(45, 7), 3, 5, 3, 'png'))).toEqual({ width: 5, height: 3, colour: true });
    expect(pngHeader(await encodeImage(Buffer.alloc(60, 7), 3, 5, 4, 'png'))).toEqual({ width: 5, height: 3, colour: true });
    const palette = await sharp(Buffer.alloc(45, 7), { raw: { width: 5, height: 3, channels: 3 } }).png({ palette: true }).toBuffer();
    expect(pngHeader(palette)).toEqual({ width: 5, height: 3, colour: true });
  });

  it('a damaged IHDR (checksum, zero size, unknown colour type, cut short) is corrupt; an eXIf chunk leaves it to the decoder', async () => {
    const png = await encodeImage(Buffer.alloc(16, 7), 4, 4, 1, 'png');
    const flipped = Buffer.from(png);
    flipped[17]! ^= 1;
    expect(pngHeader(flipped)).toBe('corrupt');
    expect(pngHeader(png.subarray(0, 30))).toBe('corrupt');
    const rotated = await sharp(Buffer.alloc(24 * 3, 9), { raw: { width: 6, height: 4, channels: 3 } }).png().withMetadata({ orientation: 6 }).toBuffer();
    expect(pngHeader(rotated)).toBeNull();
    expect(pngHeader(png.subarray(0, 40))).toBeNull(); // no IDAT in the bytes given: undecided
  });
});
