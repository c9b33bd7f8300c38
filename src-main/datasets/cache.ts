/**
 * The content-addressed tensor cache file. Layout (all integers little-endian):
 *
 *   offset 0   8 bytes  magic "CNNSDSET"
 *   offset 8   uint32   format version (1)
 *   offset 12  uint32   J = byte length of the JSON metadata
 *   offset 16  J bytes  UTF-8 JSON: { shape: [H,W,C], classNames, trainCount, testCount }
 *   then zero padding to a multiple of 8, then
 *   train images  trainCount·H·W·C uint8 (NHWC, channel fastest)
 *   train labels  trainCount uint8
 *   test images   testCount·H·W·C uint8
 *   test labels   testCount uint8
 *
 * The file is named `<contentHash>.cnnds`, where contentHash = sha256(JSON bytes ‖ all data bytes):
 * the same decoded content always lands in the same file, whatever the source format or name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetImportError, type CachedTensors } from './types.js';

export const CACHE_MAGIC = 'CNNSDSET';
export const CACHE_VERSION = 1;
export const CACHE_EXTENSION = '.cnnds';

export class CacheFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheFormatError';
  }
}

/** One split of decoded tensors: images NHWC uint8, one label per image. */
export interface TensorSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface TensorSet {
  shape: [number, number, number];
  classNames: string[];
  train: TensorSplit;
  test: TensorSplit | null;
}

interface CacheMetadata {
  shape: [number, number, number];
  classNames: string[];
  trainCount: number;
  testCount: number;
}

function metadataBytes(set: TensorSet): Buffer {
  const meta: CacheMetadata = {
    shape: set.shape,
    classNames: set.classNames,
    trainCount: set.train.n,
    testCount: set.test?.n ?? 0,
  };
  return Buffer.from(JSON.stringify(meta), 'utf8');
}

function dataParts(set: TensorSet): Uint8Array[] {
  const parts = [set.train.images, set.train.labels];
  if (set.test) parts.push(set.test.images, set.test.labels);
  return parts;
}

/** sha256 over the metadata JSON and the tensors, in file order (hex). */
export function contentHashOf(set: TensorSet): string {
  const hash = createHash('sha256');
  hash.update(metadataBytes(set));
  for (const part of dataParts(set)) hash.update(part);
  return hash.digest('hex');
}

function prelude(json: Buffer): Buffer {
  const headerLength = 16 + json.length;
  const padded = Math.ceil(headerLength / 8) * 8;
  const header = Buffer.alloc(padded);
  header.write(CACHE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(CACHE_VERSION, 8);
  header.writeUInt32LE(json.length, 12);
  json.copy(header, 16);
  return header;
}

export function cacheFileSize(set: TensorSet): number {
  let size = prelude(metadataBytes(set)).length;
  for (const part of dataParts(set)) size += part.length;
  return size;
}

export function cacheFilePath(cacheDir: string, contentHash: string): string {
  return resolve(join(cacheDir, contentHash + CACHE_EXTENSION));
}

/** ENOSPC/EDQUOT as the import error a user can act on; null for any other error. */
export function diskFullError(error: unknown, path: string): DatasetImportError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return null;
  const what = code === 'EDQUOT' ? 'your disk quota is used up' : 'the disk is full';
  return new DatasetImportError('disk_full', `${what} (writing ${path}): free space and import again; nothing was kept`, path);
}

/**
 * Writes the set to `<cacheDir>/<hash>.cnnds` through `tempPath` + rename, so a reader never sees a
 * half-written file. If a file of the right size already has that name, it is reused untouched.
 * A full disk is a 'disk_full' DatasetImportError, with the temp file removed.
 */
export function writeCache(
  cacheDir: string,
  set: TensorSet,
  contentHash: string,
  tempPath: string,
  onProgress?: (written: number, total: number) => void,
): { cacheFile: string; reused: boolean; bytes: number } {
  const cacheFile = cacheFilePath(cacheDir, contentHash);
  const bytes = cacheFileSize(set);
  if (existsSync(cacheFile) && statSync(cacheFile).size === bytes) return { cacheFile, reused: true, bytes };
  const fd = openSync(tempPath, 'w');
  try {
    let written = writeSync(fd, prelude(metadataBytes(set)));
    for (const part of dataParts(set)) {
      // writeSync may write less than asked for large buffers; 64 MiB at a time to report progress
      let offset = 0;
      while (offset < part.length) {
        const step = writeSync(fd, part, offset, Math.min(part.length - offset, 64 * 1024 * 1024));
        offset += step;
        written += step;
        onProgress?.(written, bytes);
      }
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tempPath);
    throw diskFullError(error, tempPath) ?? error;
  }
  closeSync(fd);
  renameSync(tempPath, cacheFile);
  return { cacheFile, reused: false, bytes };
}

function parseHeader(bytes: Buffer, cacheFile: string): { meta: CacheMetadata; json: Buffer; dataOffset: number } {
  if (bytes.length < 16 || bytes.toString('latin1', 0, 8) !== CACHE_MAGIC) {
    throw new CacheFormatError(`${cacheFile}: not a CNN Studio dataset cache file (bad magic)`);
  }
  const version = bytes.readUInt32LE(8);
  if (version !== CACHE_VERSION) {
    throw new CacheFormatError(`${cacheFile}: cache format version ${version}, this build reads ${CACHE_VERSION}`);
  }
  const jsonLength = bytes.readUInt32LE(12);
  if (16 + jsonLength > bytes.length) throw new CacheFormatError(`${cacheFile}: truncated header`);
  const json = bytes.subarray(16, 16 + jsonLength);
  let meta: CacheMetadata;
  try {
    meta = JSON.parse(json.toString('utf8')) as CacheMetadata;
  } catch {
    throw new CacheFormatError(`${cacheFile}: corrupt metadata JSON`);
  }
  return { meta, json, dataOffset: Math.ceil((16 + jsonLength) / 8) * 8 };
}

function parse(bytes: Buffer, cacheFile: string): { meta: CacheMetadata; json: Buffer; dataOffset: number } {
  const { meta, json, dataOffset } = parseHeader(bytes, cacheFile);
  const [h, w, c] = meta.shape;
  const expected = dataOffset + (meta.trainCount + meta.testCount) * (h * w * c + 1);
  if (bytes.length !== expected) {
    throw new CacheFormatError(`${cacheFile}: ${bytes.length} bytes, expected ${expected} for ${meta.trainCount}+${meta.testCount} images of ${h}×${w}×${c}`);
  }
  return { meta, json, dataOffset };
}

/** The header of a cache file (shape, class names, counts) without reading the tensors. */
export function readCacheInfo(cacheFile: string): { shape: [number, number, number]; classNames: string[]; trainCount: number; testCount: number; bytes: number } {
  const fd = openSync(cacheFile, 'r');
  try {
    const prelude = Buffer.alloc(16);
    const size = statSync(cacheFile).size;
    readSync(fd, prelude, 0, 16, 0);
    const jsonLength = prelude.toString('latin1', 0, 8) === CACHE_MAGIC ? prelude.readUInt32LE(12) : 0;
    const head = Buffer.alloc(Math.min(16 + jsonLength, size));
    readSync(fd, head, 0, head.length, 0);
    const { meta, dataOffset } = parseHeader(head, cacheFile);
    const [h, w, c] = meta.shape;
    const expected = dataOffset + (meta.trainCount + meta.testCount) * (h * w * c + 1);
    if (size !== expected) throw new CacheFormatError(`${cacheFile}: ${size} bytes, expected ${expected} for ${meta.trainCount}+${meta.testCount} images of ${h}×${w}×${c}`);
    return { ...meta, bytes: size };
  } finally {
    closeSync(fd);
  }
}

/** Reads a cache file; the returned arrays are views into one buffer (no copy). */
export function readCache(cacheFile: string): CachedTensors {
  const bytes = readFileSync(cacheFile);
  const { meta, dataOffset } = parse(bytes, cacheFile);
  const imageSize = meta.shape[0] * meta.shape[1] * meta.shape[2];
  let offset = dataOffset;
  const take = (length: number): Uint8Array => {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
    offset += length;
    return view;
  };
  const trainImages = take(meta.trainCount * imageSize);
  const trainLabels = take(meta.trainCount);
  const train = { images: trainImages, labels: trainLabels, n: meta.trainCount };
  let test: CachedTensors['test'] = null;
  if (meta.testCount > 0) {
    const testImages = take(meta.testCount * imageSize);
    test = { images: testImages, labels: take(meta.testCount), n: meta.testCount };
  }
  return { shape: meta.shape, classNames: meta.classNames, train, test };
}

/** Recomputes the content hash of a cache file (e.g. to check a file after a crash); true when it matches its name. */
export function verifyCache(cacheFile: string): boolean {
  const bytes = readFileSync(cacheFile);
  const { json, dataOffset } = parse(bytes, cacheFile);
  const hash = createHash('sha256').update(json).update(bytes.subarray(dataOffset)).digest('hex');
  return cacheFile.endsWith(hash + CACHE_EXTENSION);
}

/**
 * Temp names used while importing: `.import-<pid>-t<start>-<random>.partial` / `.extract`, where
 * <start> is when that process started (Linux: clock ticks after boot, from /proc/<pid>/stat), so a
 * file is never taken for a live import's just because a new process got the dead one's pid.
 * Older builds wrote `.import-<pid>-<random>…`; those are judged by the pid alone.
 */
const TEMP_NAME = /^\.import-(\d+)(?:-t(\d+))?-[0-9a-f]+\.(partial|extract)$/;

/** When process `pid` started, as an opaque number; null where the OS does not tell (not Linux) or no such process. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // the command name (field 2) is in parentheses and may contain spaces: count from the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null; // field 22, starttime
}

/** The temp paths of a new import in cacheDir, owned by this process. */
export function importTempPaths(cacheDir: string): { tempPath: string; extractDir: string } {
  const start = processStartTime(process.pid);
  const id = `${process.pid}${start === null ? '' : `-t${start}`}-${randomBytes(6).toString('hex')}`;
  return { tempPath: join(cacheDir, `.import-${id}.partial`), extractDir: join(cacheDir, `.import-${id}.extract`) };
}

function ownerAlive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === null || now === start;
}

/**
 * Removes what imports left in cacheDir when their process died (kill -9, a crash, power loss):
 * `.import-*.partial` files and `.import-*.extract` folders whose owning process is gone. Files of a
 * live process — another app or CLI importing into the same library right now — are left alone.
 * Safe to call at every service start, with imports of other processes running; never throws.
 * Returns the names removed.
 */
export function removeStaleImportFiles(cacheDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || ownerAlive(Number(match[1]), match[2])) continue;
    try {
      rmSync(join(cacheDir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // left for the next start (e.g. a read-only library): stale files cost disk, never correctness
    }
  }
  return removed;
}
