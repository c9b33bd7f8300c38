/**
 * Why a file was skipped, in the user's words: decoder messages (libvips/libpng/libjpeg through sharp),
 * file-system error codes and file kinds become the one-line reasons of the lint report. The only
 * place that knows what those messages look like.
 */
import { isUtf8 } from 'node:buffer';
import type { Dirent, Stats } from 'node:fs';
import { crc32 } from 'node:zlib';

export type ImageKind = 'png' | 'jpeg' | 'webp' | 'gif';

const KIND_NAMES: Record<ImageKind, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP', gif: 'GIF' };

const damaged = (kind: string): string => `corrupt ${kind} (its pixel data is damaged)`;

/**
 * [kinds the pattern may speak for, pattern on the decoder's message, reason]; the first match wins.
 * A pattern names the kinds it can be about: libvips keeps one error buffer for all threads, so with
 * several images decoding at once the message can be another file's ("premature end of JPEG" for a
 * PNG); such a message is then not believed.
 */
const DECODER_REASONS: [ImageKind[] | 'any', RegExp, (kind: string) => string][] = [
  ['any', /exceeds pixel limit/i, (k) => `${k} with more pixels than the per-image limit`],
  [['jpeg'], /premature end of JPEG|JPEG datastream contains no image/i, () => 'truncated JPEG (the file ends before the image does)'],
  [['gif'], /Unexpected end of GIF/i, () => 'truncated GIF (the file ends before the image does)'],
  ['any', /unsupported image format/i, () => 'not an image sharp can decode (unrecognised content)'],
  // sharp says "Input buffer has corrupt header:" with nothing useful after the colon
  ['any', /corrupt header/i, (k) => `corrupt ${k} header (not a readable ${k} file)`],
  // Damage inside a file whose structure is whole. For the same bytes libvips reports either the
  // decoder's error or sharp's "Warning treated as error due to failOn setting": one reason for both.
  [['png'], /libpng read error|IDAT|incorrect data check|too much image data|not enough image data|CRC error/i, damaged],
  [['webp'], /unable to parse image|webp/i, damaged],
  [['jpeg'], /Corrupt JPEG|bogus|invalid JPEG|Huffman/i, damaged],
  ['any', /Warning treated as error/i, damaged],
];

/** A decoder's error message for a file that starts like `kind`, as a reason in words. */
export function decoderReason(kind: ImageKind, message: string): string {
  const name = KIND_NAMES[kind];
  // libvips repeats itself over several lines; the first pattern that matches any line decides
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const matches = (pattern: RegExp): boolean => lines.some((l) => pattern.test(l));
  for (const [kinds, pattern, reason] of DECODER_REASONS) {
    if ((kinds === 'any' || kinds.includes(kind)) && matches(pattern)) return reason(name);
  }
  // another format's message is another file's: not worth quoting
  if (DECODER_REASONS.some(([kinds, pattern]) => kinds !== 'any' && matches(pattern))) return `corrupt ${name} data`;
  return `corrupt ${name} data (the decoder said: ${lines[0] ?? 'nothing'})`;
}

/**
 * What is wrong with the structure of a file that starts like `kind`, read from its bytes (chunk
 * lengths and checksums, end markers), or null when the structure is whole. Deterministic, unlike the
 * decoder's message (see DECODER_REASONS), so it is asked first.
 */
export function structuralProblem(kind: ImageKind, bytes: Uint8Array): string | null {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const truncated = `truncated ${KIND_NAMES[kind]} (the file ends before the image does)`;
  if (kind === 'png') {
    // chunks: length (4, big-endian), type (4), data, CRC-32 of type + data (4); IHDR first, IEND last
    const badHeader = 'corrupt PNG header (not a readable PNG file)';
    let at = 8;
    for (let index = 0; ; index++) {
      if (at + 8 > view.length) return index === 0 ? badHeader : truncated;
      const length = view.readUInt32BE(at);
      const type = view.toString('latin1', at + 4, at + 8);
      if (index === 0 && (type !== 'IHDR' || length !== 13)) return badHeader;
      if (at + 12 + length > view.length) return index === 0 ? badHeader : truncated;
      if (crc32(view.subarray(at + 4, at + 8 + length)) !== view.readUInt32BE(at + 8 + length)) {
        return index === 0 ? badHeader : `corrupt PNG (the checksum of its ${type} chunk does not match)`;
      }
      at += 12 + length;
      if (type === 'IEND') return null;
    }
  }
  if (kind === 'jpeg') {
    let end = view.length;
    while (end > 2 && view[end - 1] === 0) end--; // some writers pad after the end marker
    return view[end - 2] === 0xff && view[end - 1] === 0xd9 ? null : truncated;
  }
  if (kind === 'gif') return view[view.length - 1] === 0x3b ? null : truncated;
  // webp: RIFF, then the byte count of the rest (little-endian)
  return view.length >= 12 && view.readUInt32LE(4) + 8 <= view.length ? null : truncated;
}

/** Why a file that starts like `kind` failed to decode: its structure first, then the decoder's message. */
export function decodeFailureReason(kind: ImageKind, bytes: Uint8Array, message: string): string {
  return structuralProblem(kind, bytes) ?? decoderReason(kind, message);
}

const ERRNO_REASONS: Record<string, string> = {
  EACCES: 'cannot be read: permission denied',
  EPERM: 'cannot be read: operation not permitted',
  ENOENT: 'disappeared while importing (no such file)',
  ENOTDIR: 'disappeared while importing (a folder on its path is not a folder)',
  ELOOP: 'a link loop (links that lead to each other)',
  EIO: 'cannot be read: input/output error from the disk',
  ENAMETOOLONG: 'name too long for the file system',
  EMFILE: 'cannot be opened: too many open files',
  ENFILE: 'cannot be opened: too many open files',
  EISDIR: 'is a folder, not a file',
  ENXIO: 'a device or socket without a reader, not a regular file',
};

/** A failed open/read/stat as a reason in words ("cannot be read: permission denied"). */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code && ERRNO_REASONS[code]) return ERRNO_REASONS[code]!;
  return `cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`;
}

/** What a file-system entry is when it is neither a regular file nor a folder. */
export function specialFileReason(entry: Stats | Dirent<string | Buffer>): string {
  if (entry.isFIFO()) return 'a named pipe (FIFO), not a regular file';
  if (entry.isSocket()) return 'a socket, not a regular file';
  if (entry.isCharacterDevice()) return 'a character device, not a regular file';
  if (entry.isBlockDevice()) return 'a block device, not a regular file';
  if (entry.isDirectory()) return 'a folder where a file was expected';
  return 'not a regular file';
}

const startsWith = (bytes: Uint8Array, text: string, at = 0): boolean =>
  bytes.length >= at + text.length && [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));

/** Content that is not an image we decode (PNG/JPEG/WebP/GIF), described by its first bytes. */
export function nonImageReason(bytes: Uint8Array): string {
  if (startsWith(bytes, 'BM')) return 'a BMP image; only PNG, JPEG, WebP and GIF are imported (convert it)';
  if (startsWith(bytes, 'II*\0') || startsWith(bytes, 'MM\0*')) return 'a TIFF image; only PNG, JPEG, WebP and GIF are imported (convert it)';
  if (startsWith(bytes, 'ftyp', 4)) return 'a HEIC/AVIF image or video; only PNG, JPEG, WebP and GIF are imported (convert it)';
  if (startsWith(bytes, '%PDF')) return 'not an image (a PDF document)';
  if (startsWith(bytes, 'PK')) return 'not an image (a zip archive; an archive inside a dataset folder is not unpacked)';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'not an image (gzip-compressed data)';
  const head = bytes.subarray(0, 4096);
  const text = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (/^\s*(<\?xml[^>]*>\s*)?<svg/i.test(text.toString('latin1'))) return 'an SVG drawing; only PNG, JPEG, WebP and GIF are imported (render it to PNG)';
  if (looksLikeText(head)) return 'not an image (a text file)';
  return 'not an image (unrecognised content)';
}

/** UTF-8 (allowing a character cut at the end of the sample) without control bytes other than tab/CR/LF/FF. */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const b of head) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return false;
  for (let cut = 0; cut < 4 && cut < head.length; cut++) if (isUtf8(head.subarray(0, head.length - cut))) return true;
  return false;
}
