/**
 * IDX files (the MNIST / Fashion-MNIST layout), gzipped or not. Header: two zero bytes, a type byte
 * (0x08 = unsigned byte, the only type image datasets use), the number of dimensions, then one
 * big-endian uint32 per dimension; the data follows, row-major.
 *   images: dims (N, H, W) or (N, H, W, C)     labels: dims (N)
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { TensorSplit } from './cache.js';
import { type DecodedDataset, type ProgressSink, defaultClassNames } from './decoded.js';
import { readHead } from './read-head.js';
import { DatasetImportError } from './types.js';

const TYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

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

export function readIdxFile(path: string, expectedNdim: 'images' | 'labels'): IdxArray {
  const name = basename(path);
  let bytes: Buffer = readFileSync(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DatasetImportError('bad_idx', `${name}: corrupt or truncated gzip data (${(error as Error).message})`, path);
    }
  }
  if (bytes.length < 4) throw new DatasetImportError('bad_idx', `${name}: ${bytes.length} bytes, too short for an IDX header`, path);
  const magic = bytes.readUInt32BE(0);
  const type = bytes[2]!, ndim = bytes[3]!;
  const expectedMagic = expectedNdim === 'labels' ? '0x00000801' : '0x00000803';
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES) || ndim < 1 || ndim > 4) {
    throw new DatasetImportError('bad_idx', `${name}: wrong magic number 0x${magic.toString(16).padStart(8, '0')} (expected ${expectedMagic}, not an IDX file)`, path);
  }
  if (type !== 0x08) {
    throw new DatasetImportError('unsupported', `${name}: IDX element type ${TYPE_NAMES[type]} (0x${type.toString(16)}); only uint8 (0x08) images and labels are supported`, path);
  }
  const okDims = expectedNdim === 'labels' ? ndim === 1 : ndim === 3 || ndim === 4;
  if (!okDims) {
    throw new DatasetImportError('bad_idx', `${name}: IDX array of ${ndim} dimensions (magic 0x${magic.toString(16).padStart(8, '0')}), expected ${expectedNdim === 'labels' ? '1 (labels)' : '3 or 4 (images)'}`, path);
  }
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) throw new DatasetImportError('bad_idx', `${name}: truncated header (${bytes.length} bytes, need ${headerLength})`, path);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(bytes.readUInt32BE(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  const what = expectedNdim === 'labels' ? `${dims[0]} labels` : `${dims[0]} images of ${dims.slice(1).join('×')}`;
  if (actual < expected) {
    throw new DatasetImportError('bad_idx', `${name}: truncated data: header says ${what} (${expected} bytes) but only ${actual} bytes follow`, path);
  }
  if (actual > expected) {
    throw new DatasetImportError('bad_idx', `${name}: ${actual - expected} unexpected bytes after the ${what} the header announces`, path);
  }
  return { dims, data: bytes.subarray(headerLength) };
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
export function findIdxPairs(paths: string[]): IdxPair[] {
  const images: string[] = [];
  const labels: string[] = [];
  for (const path of paths) {
    const kind = sniffIdx(path);
    if (kind === 'images') images.push(path);
    else if (kind === 'labels') labels.push(path);
    else if (looksLikeIdxName(basename(path))) {
      // Named like IDX but its header is not: let readIdxFile produce the precise error.
      readIdxFile(path, /labels|idx1/i.test(basename(path)) ? 'labels' : 'images');
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
export function pairForFile(path: string): IdxPair[] {
  const dir = dirname(path);
  const siblings = readdirSync(dir).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
  const all = findIdxPairs(siblings);
  const mine = all.filter((p) => p.images === path || p.labels === path);
  if (mine.length === 0) throw new DatasetImportError('bad_idx', `${basename(path)}: no IDX images/labels pair found for it in ${dir}`, path);
  return mine;
}

function readPair(pair: IdxPair): { split: TensorSplit; shape: [number, number, number] } {
  const images = readIdxFile(pair.images, 'images');
  const labels = readIdxFile(pair.labels, 'labels');
  const n = images.dims[0]!;
  if (labels.dims[0] !== n) {
    throw new DatasetImportError('bad_idx', `${basename(pair.labels)}: ${labels.dims[0]} labels but ${basename(pair.images)} has ${n} images`, pair.labels);
  }
  const c = images.dims[3] ?? 1;
  if (c !== 1 && c !== 3) throw new DatasetImportError('unsupported', `${basename(pair.images)}: ${c} channels per pixel; only 1 (grayscale) or 3 (RGB) are supported`, pair.images);
  return { split: { images: images.data, labels: labels.data, n }, shape: [images.dims[1]!, images.dims[2]!, c] };
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

/** Reads class names from classes.txt next to the data, if any. */
export function readClassNames(dir: string): string[] | null {
  const path = join(dir, 'classes.txt');
  try {
    const names = readFileSync(path, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length > 0 ? names : null;
  } catch {
    return null;
  }
}

export function decodeIdx(pairs: IdxPair[], classNamesDir: string, progress: ProgressSink): DecodedDataset {
  const train: TensorSplit[] = [];
  const test: TensorSplit[] = [];
  let shape: [number, number, number] | null = null;
  let shapeFrom = '';
  pairs.forEach((pair, i) => {
    progress('decoding', i, pairs.length, basename(pair.images));
    const read = readPair(pair);
    if (shape && read.shape.join() !== shape.join()) {
      throw new DatasetImportError('bad_idx', `${basename(pair.images)}: images of ${read.shape.join('×')} but ${shapeFrom} has ${shape.join('×')}`, pair.images);
    }
    shape = read.shape;
    shapeFrom = basename(pair.images);
    (pair.test ? test : train).push(read.split);
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
  const finalShape = shape as unknown as [number, number, number];
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
