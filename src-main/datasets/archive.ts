/**
 * A single .zip, .tar or .tar.gz holding one of the other layouts, extracted to a private folder
 * first. Small self-contained readers (zip: stored + deflate through node:zlib; tar: ustar + GNU/pax
 * long names) so no package is needed. Entries that would land outside the target are refused.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { constants, gunzipSync, inflateRawSync } from 'node:zlib';
import { readHead } from './read-head.js';
import { DatasetImportError } from './types.js';

export function sniffArchive(path: string): 'zip' | 'tar' | 'tar.gz' | null {
  const bytes = readHead(path, 4096);
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x06054b50) return 'zip'; // empty zip
  const isTar = (b: Buffer): boolean => b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar';
  if (isTar(bytes)) return 'tar';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      if (isTar(gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }))) return 'tar.gz';
    } catch {
      return null;
    }
  }
  return null;
}

function safeTarget(root: string, entryName: string, archive: string): string | null {
  const name = entryName.replace(/\\/g, '/');
  if (name.endsWith('/')) return null;
  const target = resolve(root, name);
  if (!target.startsWith(resolve(root) + sep)) {
    throw new DatasetImportError('unsupported', `${basename(archive)}: entry '${entryName}' points outside the archive folder`, archive);
  }
  return target;
}

function writeEntry(target: string, data: Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, data);
}

function extractZip(path: string, root: string): number {
  const bytes = readFileSync(path);
  const bad = (why: string): DatasetImportError => new DatasetImportError('unsupported', `${basename(path)}: ${why}`, path);
  // End of central directory: the last 22+ bytes (a trailing comment may follow it).
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('truncated or corrupt zip (no end of central directory)');
  const entries = bytes.readUInt16LE(eocd + 10);
  let offset = bytes.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || entries === 0xffff) throw bad('ZIP64 archives are not supported');
  let written = 0;
  for (let e = 0; e < entries; e++) {
    if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== 0x02014b50) throw bad('corrupt zip central directory');
    const method = bytes.readUInt16LE(offset + 10);
    const compressedSize = bytes.readUInt32LE(offset + 20);
    const size = bytes.readUInt32LE(offset + 24);
    const nameLength = bytes.readUInt16LE(offset + 28);
    const extraLength = bytes.readUInt16LE(offset + 30);
    const commentLength = bytes.readUInt16LE(offset + 32);
    const flags = bytes.readUInt16LE(offset + 8);
    const localOffset = bytes.readUInt32LE(offset + 42);
    const name = bytes.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    const target = safeTarget(root, name, path);
    if (!target) continue;
    if (flags & 1) throw bad(`entry '${name}' is encrypted`);
    if (bytes.readUInt32LE(localOffset) !== 0x04034b50) throw bad(`corrupt local header for '${name}'`);
    const dataStart = localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
    const compressed = bytes.subarray(dataStart, dataStart + compressedSize);
    if (compressed.length < compressedSize) throw bad(`entry '${name}' is truncated`);
    let data: Uint8Array;
    if (method === 0) data = compressed;
    else if (method === 8) {
      try {
        data = inflateRawSync(compressed);
      } catch (error) {
        throw bad(`entry '${name}': corrupt deflate data (${(error as Error).message})`);
      }
    } else throw bad(`entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (data.length !== size) throw bad(`entry '${name}': ${data.length} bytes after decompression, the directory says ${size}`);
    writeEntry(target, data);
    written++;
  }
  return written;
}

function extractTar(bytes: Buffer, path: string, root: string): number {
  const bad = (why: string): DatasetImportError => new DatasetImportError('unsupported', `${basename(path)}: ${why}`, path);
  const field = (at: number, length: number): string => {
    const raw = bytes.subarray(at, at + length);
    const end = raw.indexOf(0);
    return raw.toString('utf8', 0, end === -1 ? length : end);
  };
  let offset = 0;
  let longName: string | null = null;
  let written = 0;
  while (offset + 512 <= bytes.length) {
    if (bytes.subarray(offset, offset + 512).every((b) => b === 0)) break;
    const size = parseInt(field(offset + 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size)) throw bad(`corrupt tar header at byte ${offset}`);
    const type = String.fromCharCode(bytes[offset + 156]!);
    const prefix = field(offset + 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(offset, 100)}` : field(offset, 100));
    longName = null;
    const dataStart = offset + 512;
    if (dataStart + size > bytes.length) throw bad(`entry '${name}' is truncated`);
    const data = bytes.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (match) longName = match[1]!;
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') continue; // directories, links, global headers
    name = name.replace(/^\.\//, '');
    const target = safeTarget(root, name, path);
    if (!target) continue;
    writeEntry(target, data);
    written++;
  }
  return written;
}

/** Extracts `path` into `root` (created); throws 'unsupported' for corrupt archives, 'empty' for empty ones. */
export function extractArchive(path: string, root: string): void {
  const kind = sniffArchive(path);
  mkdirSync(root, { recursive: true });
  let count: number;
  if (kind === 'zip') count = extractZip(path, root);
  else if (kind === 'tar' || kind === 'tar.gz') {
    let bytes = readFileSync(path);
    if (kind === 'tar.gz') {
      try {
        bytes = gunzipSync(bytes);
      } catch (error) {
        throw new DatasetImportError('unsupported', `${basename(path)}: corrupt or truncated gzip data (${(error as Error).message})`, path);
      }
    }
    count = extractTar(bytes, path, root);
  } else throw new DatasetImportError('unsupported', `${basename(path)}: not a .zip, .tar or .tar.gz archive`, path);
  if (count === 0) throw new DatasetImportError('empty', `${basename(path)}: the archive holds no files`, path);
}

