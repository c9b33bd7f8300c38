/**
 * The app icons: made from resources/icons/icon.svg by tools/icons.ts (the committed files are what
 * the script makes today), and their containers hold what macOS and Windows look for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ICNS_TYPES, ICO_SIZES, ICONS_DIR, makeIcons, PNG_SIZES } from './icons.js';

const file = (name: string) => readFileSync(join(ICONS_DIR, name));
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngSize = async (png: Buffer) => {
  const m = await sharp(png).metadata();
  return [m.format, m.width, m.height];
};

describe('icons', () => {
  it('the committed icons are what `npm run icons` makes from icon.svg', async () => {
    const made = await makeIcons(file('icon.svg'));
    expect([...made.keys()].sort()).toEqual([...PNG_SIZES.map((s) => `png/${s}x${s}.png`), 'icon.icns', 'icon.ico'].sort());
    for (const [name, bytes] of made) expect(file(name).equals(bytes), `${name} is stale: run npm run icons`).toBe(true);
  });

  it('png/: one PNG per size, each that size', async () => {
    for (const s of PNG_SIZES) expect(await pngSize(file(`png/${s}x${s}.png`))).toEqual(['png', s, s]);
  });

  it('icon.icns: the icns header and length, then each type with a PNG of its size (16 to 1024, @2x included)', async () => {
    const icns = file('icon.icns');
    expect([icns.toString('latin1', 0, 4), icns.readUInt32BE(4)]).toEqual(['icns', icns.length]);
    const found: [string, number][] = [];
    for (let at = 8; at < icns.length;) {
      const type = icns.toString('latin1', at, at + 4);
      const length = icns.readUInt32BE(at + 4);
      const png = icns.subarray(at + 8, at + length);
      expect(png.subarray(0, 8).equals(PNG_MAGIC), type).toBe(true);
      const [, w, h] = await pngSize(png);
      expect(w).toBe(h);
      found.push([type, w as number]);
      at += length;
    }
    expect(found).toEqual(ICNS_TYPES);
  });

  it('icon.ico: a directory of 32-bit PNG images from 16 to 256 (0 meaning 256), offsets and lengths that add up', async () => {
    const ico = file('icon.ico');
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, ICO_SIZES.length]);
    let expectedOffset = 6 + 16 * ICO_SIZES.length;
    for (const [i, size] of ICO_SIZES.entries()) {
      const e = 6 + 16 * i;
      const [w, h, planes, bpp, length, offset] = [ico.readUInt8(e), ico.readUInt8(e + 1), ico.readUInt16LE(e + 4), ico.readUInt16LE(e + 6), ico.readUInt32LE(e + 8), ico.readUInt32LE(e + 12)];
      expect([w || 256, h || 256, planes, bpp, offset]).toEqual([size, size, 1, 32, expectedOffset]);
      expect(await pngSize(ico.subarray(offset, offset + length))).toEqual(['png', size, size]);
      expectedOffset += length;
    }
    expect(expectedOffset).toBe(ico.length);
  });
});
