/**
 * What an image file says it holds — its channels and whether it has alpha — read from its first
 * bytes, as sharp's metadata tells the studio (prepare-image.ts words a file by it: a PNG stored as
 * RGB is "colour" even when every pixel is gray). The canvas gives every file as RGBA, so the page
 * reads PNG's IHDR (and a palette's tRNS) and JPEG's frame header itself; for other formats it
 * returns null and the page judges from the pixels.
 *
 *   PNG: signature (8) · chunks (length, type, data, CRC); IHDR data: width, height, depth, colour type
 *        colour types: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGB + alpha; tRNS gives alpha
 *   JPEG: FF D8 · segments FF xx (length); a start-of-frame (C0–CF but C4, C8, CC) holds the components
 */
export interface DeclaredChannels {
  /** sharp's `channels`, alpha included. */
  channels: number;
  alpha: boolean;
}

const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

export function declaredChannels(bytes: Uint8Array): DeclaredChannels | null {
  if (bytes.length >= 33 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG' && ascii(bytes, 12, 4) === 'IHDR') {
    const type = bytes[25]!;
    if (type === 0) return { channels: 1, alpha: false };
    if (type === 2) return { channels: 3, alpha: false };
    if (type === 4) return { channels: 2, alpha: true };
    if (type === 6) return { channels: 4, alpha: true };
    if (type !== 3) return null;
    for (let at = 8; at + 8 <= bytes.length; at += 12 + u32(bytes, at)) {
      const chunk = ascii(bytes, at + 4, 4);
      if (chunk === 'tRNS') return { channels: 4, alpha: true };
      if (chunk === 'IDAT') return { channels: 3, alpha: false };
    }
    return null;
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let at = 2; at + 9 < bytes.length;) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1]!;
      if (marker === 0xff) { at++; continue; }
      const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { channels: bytes[at + 9]!, alpha: false };
      at += 2 + length;
    }
  }
  return null;
}
