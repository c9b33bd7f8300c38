/**
 * IDX files (the MNIST / Fashion-MNIST layout), gzipped or not. Header: two zero bytes, a type byte
 * (0x08 = unsigned byte, the only type image datasets use), the number of dimensions, then one
 * big-endian uint32 per dimension; the data follows, row-major.
 *   images: dims (N, H, W) or (N, H, W, C)     labels: dims (N)
 * The header is read and checked first (no zero sizes, within the limits, matching the file's length
 * when not gzipped); gzipped data is inflated only up to the length the header announces.
 */
import { basename, dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { TensorSplit } from './cache.js';
import { type DecodedDataset, type ProgressSink, defaultClassNames } from './decoded.js';
import { formatBytes, formatCount, limitError, type ImportLimits } from './limits.js';
import { readHead, readRegularFileSync, regularFileSize } from './regular-file.js';
import { DatasetImportError } from './types.js';
import { FolderWalker } from './walk.js';

const TYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The first bytes of a file, gunzipped if needed (enough to read an IDX header). */
function peekHeader(path: string): Buffer | null {
  const bytes = readHead(path, 4096);
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return null;
  }
}

/** 'images' / 'labels' when the file starts like an IDX uint8 array of ≥3 / 1 dimensions, else null. */
export function sniffIdx(path: string): 'images' | 'labels' | null {
  const head = peekHeader(path);
  if (!head || head.length < 8 || head[0] !== 0 || head[1] !== 0) return null;
  const type = head[2]!, ndim = head[3]!;
  if (!(type in TYPE_NAMES) || ndim < 1 || ndim > 4) return null;
  if (ndim === 1) return 'labels';
  if (ndim >= 3) return 'images';
  return null;
}

/** Names that look like IDX files even when their content is broken (so a wrong magic is reported, not ignored). */
export function looksLikeIdxName(name: string): boolean {
  return /idx\d-ubyte(\.gz)?$/i.test(name) || /\.idx\d?(\.gz)?$/i.test(name);
}

export interface IdxHeader {
  path: string;
  dims: number[];
  headerLength: number;
  gzip: boolean;
  /** bytes of data the header announces (the product of dims) */
  dataBytes: number;
  /** "50 images of 28×28" / "50 labels", for messages */
  what: string;
}

const idxError = (path: string, why: string, code: 'bad_idx' | 'unsupported' | 'empty' = 'bad_idx'): DatasetImportError =>
  new DatasetImportError(code, `${basename(path)}: ${why}`, path);

/** Reads and checks the header of an IDX file, without reading (or inflating) its data. */
export function readIdxHeader(path: string, expectedNdim: 'images' | 'labels', limits: ImportLimits): IdxHeader {
  const name = basename(path);
  const fileBytes = regularFileSize(path);
  if (fileBytes > limits.maxFileBytes) {
    throw limitError('maxFileBytes', `${name}: ${formatBytes(fileBytes)}, more than the limit of ${formatBytes(limits.maxFileBytes)} per file`, fileBytes, limits.maxFileBytes, path);
  }
  const gzip = isGzip(readHead(path, 2));
  const bytes = peekHeader(path);
  if (!bytes) throw idxError(path, 'corrupt or truncated gzip data (the header does not inflate)');
  if (bytes.length < 4) throw idxError(path, `${bytes.length} bytes, too short for an IDX header`);
  const magic = bytes.readUInt32BE(0);
  const type = bytes[2]!, ndim = bytes[3]!;
  const expectedMagic = expectedNdim === 'labels' ? '0x00000801' : '0x00000803';
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES) || ndim < 1 || ndim > 4) {
    throw idxError(path, `wrong magic number 0x${magic.toString(16).padStart(8, '0')} (expected ${expectedMagic}, not an IDX file)`);
  }
  if (type !== 0x08) {
    throw idxError(path, `IDX element type ${TYPE_NAMES[type]} (0x${type.toString(16)}); only uint8 (0x08) images and labels are supported`, 'unsupported');
  }
  const okDims = expectedNdim === 'labels' ? ndim === 1 : ndim === 3 || ndim === 4;
  if (!okDims) {
    throw idxError(path, `IDX array of ${ndim} dimensions (magic 0x${magic.toString(16).padStart(8, '0')}), expected ${expectedNdim === 'labels' ? '1 (labels)' : '3 or 4 (images)'}`);
  }
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) throw idxError(path, `truncated header (${bytes.length} bytes, need ${headerLength})`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(bytes.readUInt32BE(4 + 4 * i));
  const n = dims[0]!;
  const what = expectedNdim === 'labels' ? `${n} labels` : `${n} images of ${dims.slice(1).join('×')}`;
  if (n === 0) throw idxError(path, `the header says 0 ${expectedNdim} (an empty IDX file)`, 'empty');
  if (expectedNdim === 'images') {
    const [, h, w, c = 1] = dims as [number, number, number, number?];
    if (h === 0 || w === 0) throw idxError(path, `the header says images of ${h}×${w} pixels; an image needs at least 1×1`);
    if (c !== 1 && c !== 3) throw idxError(path, `${c} channels per pixel; only 1 (grayscale) or 3 (RGB) are supported`, 'unsupported');
    if (h * w > limits.maxImagePixels) {
      throw limitError('maxImagePixels', `${name}: images of ${h}×${w} pixels (${formatCount(h * w)}), more than the limit of ${formatCount(limits.maxImagePixels)} pixels per image`, h * w, limits.maxImagePixels, path);
    }
  }
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  if (dataBytes > limits.maxDatasetBytes) {
    throw limitError('maxDatasetBytes', `${name}: the header says ${what}, ${formatBytes(dataBytes)}, more than the limit of ${formatBytes(limits.maxDatasetBytes)} per dataset`, dataBytes, limits.maxDatasetBytes, path);
  }
  const header = { path, dims, headerLength, gzip, dataBytes, what };
  if (!gzip) checkDataLength(header, fileBytes - headerLength);
  return header;
}

function checkDataLength(header: IdxHeader, actual: number): void {
  const expected = header.dataBytes;
  if (actual < expected) {
    throw idxError(header.path, `truncated data: header says ${header.what} (${expected} bytes) but only ${actual} bytes follow`);
  }
  if (actual > expected) {
    throw idxError(header.path, `${actual - expected} unexpected bytes after the ${header.what} the header announces`);
  }
}

/** The data of an IDX file whose header has been checked; gzip is inflated no further than the header announces. */
export function readIdxData(header: IdxHeader, limits: ImportLimits): Uint8Array {
  const { path } = header;
  let bytes = readRegularFileSync(path, limits);
  if (header.gzip) {
    try {
      // one byte more than announced, so that extra data is told apart from a file of the right length
      bytes = gunzipSync(bytes, { maxOutputLength: header.headerLength + header.dataBytes + 1 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw idxError(path, `more data than the ${header.what} the header announces (inflating stopped at ${formatBytes(header.headerLength + header.dataBytes)})`);
      }
      throw idxError(path, `corrupt or truncated gzip data (${(error as Error).message})`);
    }
  }
  checkDataLength(header, bytes.length - header.headerLength);
  return bytes.subarray(header.headerLength);
}

export interface IdxPair {
  images: string;
  labels: string;
  test: boolean;
}

function isTestName(name: string): boolean {
  return /(^|[^a-z])(t10k|test)([^a-z]|$)/i.test(name);
}

/** The images file's partner: same name with images/idx3 → labels/idx1. */
function partnerKey(name: string): string {
  return name.toLowerCase().replace(/images?/g, '#').replace(/labels?/g, '#').replace(/idx\d/g, 'idx').replace(/\.gz$/, '');
}

/**
 * Pairs IDX image files with label files among `paths` (the files of one folder). Files are told
 * apart by their header; a name like *-idx3-ubyte whose content is not IDX is reported, not skipped.
 */
export function findIdxPairs(paths: string[], limits: ImportLimits): IdxPair[] {
  const images: string[] = [];
  const labels: string[] = [];
  for (const path of paths) {
    const kind = sniffIdx(path);
    if (kind === 'images') images.push(path);
    else if (kind === 'labels') labels.push(path);
    else if (looksLikeIdxName(basename(path))) {
      // Named like IDX but its header is not: let readIdxHeader produce the precise error.
      readIdxHeader(path, /labels|idx1/i.test(basename(path)) ? 'labels' : 'images', limits);
    }
  }
  if (images.length === 0 && labels.length === 0) return [];
  const pairs: IdxPair[] = [];
  const unusedLabels = new Set(labels);
  for (const image of images) {
    const key = partnerKey(basename(image));
    let partner = [...unusedLabels].find((l) => partnerKey(basename(l)) === key);
    if (!partner && images.length === 1 && unusedLabels.size === 1) partner = [...unusedLabels][0];
    if (!partner) throw new DatasetImportError('bad_idx', `${basename(image)}: no matching IDX labels file (like ${basename(image).replace(/images/i, 'labels').replace(/idx3/i, 'idx1')}) in ${dirname(image)}`, image);
    unusedLabels.delete(partner);
    pairs.push({ images: image, labels: partner, test: isTestName(basename(image)) });
  }
  if (images.length === 0) {
    const first = labels[0]!;
    throw new DatasetImportError('bad_idx', `${basename(first)}: IDX labels without an images file in ${dirname(first)}`, first);
  }
  return pairs;
}

/** For a single IDX file given as the source: its pair in the same folder. */
export function pairForFile(path: string, limits: ImportLimits): IdxPair[] {
  const dir = dirname(path);
  const siblings = new FolderWalker(dir, limits).list(dir).files;
  const all = findIdxPairs(siblings.includes(path) ? siblings : [path, ...siblings], limits);
  const mine = all.filter((p) => p.images === path || p.labels === path);
  if (mine.length === 0) throw new DatasetImportError('bad_idx', `${basename(path)}: no IDX images/labels pair found for it in ${dir}`, path);
  return mine;
}

interface PairHeaders {
  pair: IdxPair;
  images: IdxHeader;
  labels: IdxHeader;
  shape: [number, number, number];
}

/** Both headers of a pair, checked against each other before any data is read. */
function readPairHeaders(pair: IdxPair, limits: ImportLimits): PairHeaders {
  const images = readIdxHeader(pair.images, 'images', limits);
  const labels = readIdxHeader(pair.labels, 'labels', limits);
  const n = images.dims[0]!;
  if (labels.dims[0] !== n) {
    throw new DatasetImportError('bad_idx', `${basename(pair.labels)}: ${labels.dims[0]} labels but ${basename(pair.images)} has ${n} images`, pair.labels);
  }
  return { pair, images, labels, shape: [images.dims[1]!, images.dims[2]!, images.dims[3] ?? 1] };
}

function concat(splits: TensorSplit[]): TensorSplit {
  if (splits.length === 1) return splits[0]!;
  const n = splits.reduce((s, x) => s + x.n, 0);
  const images = new Uint8Array(splits.reduce((s, x) => s + x.images.length, 0));
  const labels = new Uint8Array(n);
  let io = 0, lo = 0;
  for (const s of splits) {
    images.set(s.images, io);
    labels.set(s.labels, lo);
    io += s.images.length;
    lo += s.n;
  }
  return { images, labels, n };
}

/** Reads class names from classes.txt next to the data, if any (a regular file; 256 names fit in far less than 1 MiB). */
export function readClassNames(dir: string): string[] | null {
  const names = readHead(join(dir, 'classes.txt'), 1024 * 1024).toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  return names.length > 0 ? names : null;
}

export function decodeIdx(pairs: IdxPair[], classNamesDir: string, limits: ImportLimits, progress: ProgressSink): DecodedDataset {
  const train: TensorSplit[] = [];
  const test: TensorSplit[] = [];
  // Every header first: shapes agree and the whole dataset fits its limit before any data is read.
  const headers = pairs.map((pair) => readPairHeaders(pair, limits));
  const first = headers[0]!;
  let total = 0;
  for (const h of headers) {
    if (h.shape.join() !== first.shape.join()) {
      throw new DatasetImportError('bad_idx', `${basename(h.pair.images)}: images of ${h.shape.join('×')} but ${basename(first.pair.images)} has ${first.shape.join('×')}`, h.pair.images);
    }
    total += h.images.dataBytes + h.labels.dataBytes;
  }
  if (total > limits.maxDatasetBytes) {
    throw limitError('maxDatasetBytes', `${classNamesDir}: the IDX headers say ${formatBytes(total)} of images and labels, more than the limit of ${formatBytes(limits.maxDatasetBytes)} per dataset`, total, limits.maxDatasetBytes, classNamesDir);
  }
  headers.forEach((h, i) => {
    progress('decoding', i, pairs.length, basename(h.pair.images));
    const n = h.images.dims[0]!;
    const split = { images: readIdxData(h.images, limits), labels: readIdxData(h.labels, limits), n };
    (h.pair.test ? test : train).push(split);
  });
  progress('decoding', pairs.length, pairs.length);
  if (train.length === 0) {
    // Only test-named files: they are the training data then.
    train.push(...test.splice(0));
  }
  const trainSplit = concat(train);
  const testSplit = test.length > 0 ? concat(test) : null;
  let maxLabel = 0;
  for (const s of [trainSplit, testSplit]) if (s) for (let i = 0; i < s.n; i++) if (s.labels[i]! > maxLabel) maxLabel = s.labels[i]!;
  const names = readClassNames(classNamesDir);
  if (names && names.length <= maxLabel) {
    throw new DatasetImportError('bad_idx', `${join(classNamesDir, 'classes.txt')}: ${names.length} class names but the labels go up to ${maxLabel}`, join(classNamesDir, 'classes.txt'));
  }
  const finalShape = first.shape;
  return {
    format: 'idx',
    shape: finalShape,
    classNames: names ?? defaultClassNames(maxLabel + 1),
    train: trainSplit,
    test: testSplit,
    corrupt: [],
    mixedSizes: { majority: [finalShape[0], finalShape[1]], files: [], action: 'skipped' },
  };
}
