/**
 * `npm run icons`: every app icon from one source image, resources/icons/icon.svg —
 *   resources/icons/png/<n>x<n>.png  (Linux; also the window icon in a checkout)
 *   resources/icons/icon.icns        (macOS: PNG entries from 16 to 1024, the @2x ones included)
 *   resources/icons/icon.ico         (Windows: PNG entries from 16 to 256)
 * The containers are written here (they are a table of PNGs each); sharp renders the sizes. The
 * output is committed, and a test checks that it is what this script makes from the SVG today.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const ICONS_DIR = fileURLToPath(new URL('../resources/icons/', import.meta.url));
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** ICNS types with PNG payloads: type → pixel size (ic11–ic14 are the @2x variants of 16–256). */
export const ICNS_TYPES: readonly [string, number][] = [
  ['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024],
  ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512],
];
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;

export async function renderPng(svg: Buffer, size: number): Promise<Buffer> {
  // rasterised at twice the target size or more (the SVG is 1024 px at 72 dpi), then downsampled: smooth edges
  return sharp(svg, { density: Math.max(72, (72 * 2 * size) / 1024) }).resize(size, size).png({ compressionLevel: 9 }).toBuffer();
}

/** 'icns', total length (u32 BE), then per entry: type, entry length incl. its 8-byte header, PNG. */
export function buildIcns(entries: readonly { type: string; png: Buffer }[]): Buffer {
  const parts = entries.map(({ type, png }) => {
    const header = Buffer.alloc(8);
    header.write(type, 0, 'latin1');
    header.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([header, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

/** ICONDIR (reserved, type 1, count), a 16-byte ICONDIRENTRY per image (0 means 256), then the PNGs. */
export function buildIco(images: readonly { size: number; png: Buffer }[]): Buffer {
  const dir = Buffer.alloc(6 + 16 * images.length);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2);
  dir.writeUInt16LE(images.length, 4);
  let offset = dir.length;
  images.forEach(({ size, png }, i) => {
    const e = 6 + 16 * i;
    dir.writeUInt8(size >= 256 ? 0 : size, e);
    dir.writeUInt8(size >= 256 ? 0 : size, e + 1);
    dir.writeUInt8(0, e + 2); // no palette
    dir.writeUInt8(0, e + 3);
    dir.writeUInt16LE(1, e + 4); // planes
    dir.writeUInt16LE(32, e + 6); // bits per pixel
    dir.writeUInt32LE(png.length, e + 8);
    dir.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([dir, ...images.map((i) => i.png)]);
}

/** Every icon file as bytes, keyed by its path under resources/icons/. */
export async function makeIcons(svg: Buffer): Promise<Map<string, Buffer>> {
  const sizes = [...new Set([...PNG_SIZES, ...ICNS_TYPES.map(([, s]) => s), ...ICO_SIZES])];
  const png = new Map<number, Buffer>();
  for (const size of sizes) png.set(size, await renderPng(svg, size));
  const files = new Map<string, Buffer>();
  for (const size of PNG_SIZES) files.set(`png/${size}x${size}.png`, png.get(size)!);
  files.set('icon.icns', buildIcns(ICNS_TYPES.map(([type, size]) => ({ type, png: png.get(size)! }))));
  files.set('icon.ico', buildIco(ICO_SIZES.map((size) => ({ size, png: png.get(size)! }))));
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await makeIcons(readFileSync(join(ICONS_DIR, 'icon.svg')));
  mkdirSync(join(ICONS_DIR, 'png'), { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(ICONS_DIR, name), bytes);
  console.log(`icons: ${[...files].map(([n, b]) => `${n} (${b.length} B)`).join(', ')}`);
}
