/**
 * A folder with one subfolder per class of PNG/JPEG images (optionally under train/ and test/).
 * Files are recognised by their first bytes, not their extension. Two passes, so that memory is known
 * before it is spent: first every file's header (size, channels) is read — files over the per-file
 * limits are skipped there, and the dataset's decoded size is checked against its limit — then only
 * the images that are kept are decoded, each straight to the dataset's size. Memory is then the
 * dataset itself plus a few images in flight, whatever the number or the size of the files.
 */
import { basename, relative } from 'node:path';
import sharp from 'sharp';
import type { TensorSplit } from './cache.js';
import type { DecodedDataset, ProgressSink } from './decoded.js';
import { formatBytes, formatCount, limitError, type ImportLimits } from './limits.js';
import { PNG_HEAD_BYTES, pngHeader } from './png-header.js';
import { decodeFailureReason, nonImageReason, type ImageKind } from './reasons.js';
import { readHead, readImageBytes } from './regular-file.js';
import { grayToRgb, rgbToGray } from './transform.js';
import { DatasetImportError, type ImportOptions, type LintIssue } from './types.js';
import type { FolderWalker } from './walk.js';

/** Image kinds sharp decodes that we accept, by magic bytes. */
export function sniffImage(head: Uint8Array): ImageKind | null {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47 && head[4] === 0x0d && head[5] === 0x0a && head[6] === 0x1a && head[7] === 0x0a) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && String.fromCharCode(...head.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...head.subarray(8, 12)) === 'WEBP') return 'webp';
  if (head.length >= 6 && String.fromCharCode(...head.subarray(0, 4)) === 'GIF8') return 'gif';
  return null;
}

interface Candidate {
  path: string;
  label: number;
  test: boolean;
}

export interface FolderLayout {
  classNames: string[];
  candidates: Candidate[];
  split: boolean;
}

const TRAIN_NAMES = /^(train|training)$/i;
const TEST_NAMES = /^(test|testing)$/i;

/** Reads the class folders (and train/test split folders) under `root`; throws on the layout errors. */
export function scanFolder(root: string, walker: FolderWalker): FolderLayout {
  const { files, dirs } = walker.list(root);
  if (files.length === 0 && dirs.length === 0) throw new DatasetImportError('empty', `${root}: empty folder`, root);
  const trainDir = dirs.find((d) => TRAIN_NAMES.test(basename(d)));
  const testDir = dirs.find((d) => TEST_NAMES.test(basename(d)));
  const isSplit = trainDir !== undefined && walker.list(trainDir).dirs.length > 0;
  const classDirs = new Map<string, { train: string[]; test: string[] }>();
  const addClasses = (parent: string, which: 'train' | 'test'): void => {
    for (const d of walker.list(parent).dirs) {
      const name = basename(d);
      const entry = classDirs.get(name) ?? { train: [], test: [] };
      entry[which].push(d);
      classDirs.set(name, entry);
    }
  };
  if (isSplit) {
    addClasses(trainDir, 'train');
    if (testDir) addClasses(testDir, 'test');
  } else {
    addClasses(root, 'train');
  }
  if (classDirs.size === 0) {
    const images = files.filter((f) => sniffImage(readHead(f)) !== null);
    if (images.length > 0) {
      throw new DatasetImportError('unsupported', `${root}: ${images.length} images lie directly in the folder; put each class's images in its own subfolder (one subfolder per class)`, root);
    }
    throw new DatasetImportError('no_images', `${root}: no class subfolders, IDX or CSV files found`, root);
  }
  const classNames = [...classDirs.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const candidates: Candidate[] = [];
  classNames.forEach((name, label) => {
    const entry = classDirs.get(name)!;
    for (const which of ['train', 'test'] as const) {
      for (const d of entry[which]) {
        for (const path of walker.walkFiles(d)) candidates.push({ path, label, test: which === 'test' });
      }
    }
  });
  return { classNames, candidates, split: isSplit };
}

/** What an image's header says, before any pixel is decoded. */
interface ImageHeader {
  candidate: Candidate;
  name: string;
  /** size after EXIF rotation, as the decoded pixels will be */
  width: number;
  height: number;
  /** the header declares colour (3+ channels besides alpha); gray files may still decode as sRGB */
  colour: boolean;
}

interface DecodedImage {
  header: ImageHeader;
  /** 1 or 3 (alpha is flattened onto black) */
  channels: number;
  gray: boolean;
  /** pixels at the dataset's size, `channels` per pixel */
  data: Buffer;
}

function allChannelsEqual(data: Buffer, pixels: number): boolean {
  for (let p = 0; p < pixels; p++) if (data[3 * p] !== data[3 * p + 1] || data[3 * p] !== data[3 * p + 2]) return false;
  return true;
}

/** The image bytes of a file (or their first `headBytes`) and their kind, or why the file is skipped. */
function readImageFile(path: string, limits: ImportLimits, headBytes?: number): { bytes: Buffer; size: number; kind: ImageKind } | { reason: string } {
  const read = readImageBytes(path, limits.maxImageFileBytes, headBytes);
  if ('reason' in read) return read;
  if (read.size === 0) return { reason: 'empty file (0 bytes)' };
  const kind = sniffImage(read.bytes.subarray(0, 16));
  if (!kind) return { reason: nonImageReason(read.bytes) };
  return { ...read, kind };
}

/**
 * Pass 1: the header only. A PNG's is read from its first bytes (png-header.ts); other kinds, and
 * PNGs that EXIF may rotate, ask sharp, which reads no pixels for metadata. Over-limit images are
 * skipped here.
 */
async function readHeader(candidate: Candidate, name: string, limits: ImportLimits): Promise<ImageHeader | LintIssue> {
  const head = readImageFile(candidate.path, limits, PNG_HEAD_BYTES);
  if ('reason' in head) return { file: name, reason: head.reason };
  let size: { width: number; height: number; colour: boolean } | null = null;
  if (head.kind === 'png') {
    const png = pngHeader(head.bytes);
    if (png === 'corrupt') return { file: name, reason: 'corrupt PNG header (not a readable PNG file)' };
    size = png;
  }
  if (!size) {
    const file = head.bytes.length === head.size ? head : readImageFile(candidate.path, limits);
    if ('reason' in file) return { file: name, reason: file.reason };
    let meta;
    try {
      meta = await sharp(file.bytes).metadata();
    } catch (error) {
      return { file: name, reason: decodeFailureReason(file.kind, file.bytes, (error as Error).message) };
    }
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!(width > 0 && height > 0)) return { file: name, reason: decodeFailureReason(file.kind, file.bytes, 'corrupt header') };
    size = { width, height, colour: (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0) >= 3 };
  }
  const { width, height, colour } = size;
  if (width * height > limits.maxImagePixels) {
    return { file: name, reason: `${height}×${width} pixels (${formatCount(width * height)}), more than the limit of ${formatCount(limits.maxImagePixels)} pixels per image` };
  }
  return { candidate, name, width, height, colour };
}

/**
 * Pass 2: decodes one kept image straight to outH×outW (sharp streams a resize, so a large photo never
 * sits in memory at full size), kept as 1 channel when it is gray.
 */
async function decodeImage(header: ImageHeader, outH: number, outW: number, limits: ImportLimits): Promise<DecodedImage | LintIssue> {
  const name = header.name;
  const file = readImageFile(header.candidate.path, limits);
  if ('reason' in file) return { file: name, reason: file.reason };
  try {
    // autoOrient: phone photos store their rotation in EXIF; the pixels should be upright.
    // limitInputPixels: a second guard, in case the header read in pass 1 was not the one decoded now.
    const limitInputPixels = Number.isFinite(limits.maxImagePixels) ? Math.floor(limits.maxImagePixels) : false;
    let pipeline = sharp(file.bytes, { autoOrient: true, limitInputPixels }).flatten({ background: '#000000' });
    if (header.height !== outH || header.width !== outW) pipeline = pipeline.resize(outW, outH, { fit: 'fill' });
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.width !== outW || info.height !== outH) return { file: name, reason: 'changed while importing (its size is no longer what its header said)' };
    if (info.channels !== 1 && info.channels !== 3) return { file: name, reason: `${info.channels} channels after removing alpha` };
    const pixels = outW * outH;
    if (info.channels === 3 && allChannelsEqual(data, pixels)) {
      // sharp hands gray images back as sRGB; keep one channel
      const one = Buffer.alloc(pixels);
      for (let p = 0; p < pixels; p++) one[p] = data[3 * p]!;
      return { header, channels: 1, gray: true, data: one };
    }
    return { header, channels: info.channels, gray: info.channels === 1, data };
  } catch (error) {
    return { file: name, reason: decodeFailureReason(file.kind, file.bytes, (error as Error).message) };
  }
}

/** Runs `task` over `items` with a few in flight (sharp works on libuv's pool, one vips thread per image). */
async function eachInFlight<T, R>(items: T[], isCancelled: () => boolean, task: (item: T) => Promise<R>, onDone: (item: T, result: R, done: number) => void): Promise<void> {
  let next = 0, done = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && !isCancelled()) {
      const item = items[next++]!;
      const result = await task(item);
      onDone(item, result, ++done);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
}

export async function decodeFolder(root: string, walker: FolderWalker, options: ImportOptions, limits: ImportLimits, progress: ProgressSink, isCancelled: () => boolean): Promise<DecodedDataset> {
  const layout = scanFolder(root, walker);
  const { candidates } = layout;
  if (layout.classNames.length < 2) {
    throw new DatasetImportError('single_class', `${root}: only one class folder ('${layout.classNames[0]}'); a classifier needs at least two`, root);
  }
  if (layout.classNames.length > 256) {
    throw new DatasetImportError('unsupported', `${root}: ${layout.classNames.length} class folders; at most 256 classes are supported`, root);
  }
  if (candidates.length === 0) throw new DatasetImportError('no_images', `${root}: the class folders hold no files`, root);
  const nameOf = (c: Candidate): string => relative(root, c.path);
  progress('scanning', 0, candidates.length, `reading the headers of ${candidates.length} files in ${layout.classNames.length} class folders`);

  sharp.concurrency(1);
  const corrupt: LintIssue[] = [];
  const headers: ImageHeader[] = [];
  await eachInFlight(candidates, isCancelled, (c) => readHeader(c, nameOf(c), limits), (_, result, done) => {
    if ('reason' in result) corrupt.push(result);
    else headers.push(result);
    progress('scanning', done, candidates.length);
  });
  const order = new Map(candidates.map((c, i) => [c.path, i]));
  const inOrder = (a: { candidate: Candidate }, b: { candidate: Candidate }): number => order.get(a.candidate.path)! - order.get(b.candidate.path)!;
  headers.sort(inOrder);

  const noImages = (): DatasetImportError => {
    corrupt.sort((a, b) => a.file.localeCompare(b.file));
    const example = corrupt[0] ? ` (e.g. ${corrupt[0].file}: ${corrupt[0].reason})` : '';
    return new DatasetImportError('no_images', `${root}: none of the ${candidates.length} files is a decodable PNG/JPEG image${example}`, root);
  };
  if (headers.length === 0) throw noImages();

  // Majority size (from the headers); ties go to the size seen first.
  const sizeCounts = new Map<string, number>();
  for (const image of headers) {
    const key = `${image.height}x${image.width}`;
    sizeCounts.set(key, (sizeCounts.get(key) ?? 0) + 1);
  }
  let majorityKey = '', majorityCount = 0;
  for (const [key, count] of sizeCounts) if (count > majorityCount) [majorityKey, majorityCount] = [key, count];
  const majority = majorityKey.split('x').map(Number) as [number, number];
  const offSize = headers.filter((d) => d.height !== majority[0] || d.width !== majority[1]);
  const mixedPolicy = options.mixedSizes ?? 'skip';
  if (offSize.length > 0 && mixedPolicy === 'refuse' && !options.resizeTo) {
    const first = offSize[0]!;
    throw new DatasetImportError('mixed_sizes', `${root}: ${offSize.length} of ${headers.length} images are not ${majority[0]}×${majority[1]} like the rest, e.g. ${first.name} is ${first.height}×${first.width}`, first.candidate.path);
  }
  const resizing = options.resizeTo !== undefined || mixedPolicy === 'resize';
  const mixedFiles: LintIssue[] = offSize.map((d) => ({ file: d.name, reason: `${d.height}×${d.width}, majority is ${majority[0]}×${majority[1]}` }));
  const kept = resizing ? headers : headers.filter((d) => d.height === majority[0] && d.width === majority[1]);

  const [outH, outW] = options.resizeTo ?? majority;
  // The decoded size before decoding: gray files that the header calls colour may still end up 1 channel.
  const channelBound = options.channels ?? (kept.some((d) => d.colour) ? 3 : 1);
  const decodedBytes = kept.length * outH * outW * channelBound;
  if (decodedBytes > limits.maxDatasetBytes) {
    throw limitError('maxDatasetBytes', `${root}: ${formatCount(kept.length)} images of ${outH}×${outW}×${channelBound} decode to ${formatBytes(decodedBytes)}, more than the limit of ${formatBytes(limits.maxDatasetBytes)} per dataset`, decodedBytes, limits.maxDatasetBytes, root);
  }

  const decoded: DecodedImage[] = [];
  await eachInFlight(kept, isCancelled, (h) => decodeImage(h, outH, outW, limits), (_, result, done) => {
    if ('reason' in result) corrupt.push(result);
    else decoded.push(result);
    progress('decoding', done, kept.length);
  });
  decoded.sort((a, b) => inOrder(a.header, b.header));
  corrupt.sort((a, b) => a.file.localeCompare(b.file));
  if (decoded.length === 0) throw noImages();

  const channels = options.channels ?? (decoded.every((d) => d.gray) ? 1 : 3);
  const shape: [number, number, number] = [outH, outW, channels];
  const imageSize = outH * outW * channels;

  const build = (images: DecodedImage[]): { split: TensorSplit; names: string[] } => {
    const buffer = new Uint8Array(images.length * imageSize);
    const labels = new Uint8Array(images.length);
    for (let i = 0; i < images.length; i++) {
      const image = images[i]!;
      const offset = i * imageSize;
      if (image.channels === channels) buffer.set(image.data, offset);
      else if (channels === 1) rgbToGray(image.data, outH * outW, buffer, offset);
      else grayToRgb(image.data, outH * outW, buffer, offset);
      labels[i] = image.header.candidate.label;
    }
    return { split: { images: buffer, labels, n: images.length }, names: images.map((d) => d.header.name) };
  };
  const train = build(decoded.filter((d) => !d.header.candidate.test));
  const testImages = decoded.filter((d) => d.header.candidate.test);
  const test = testImages.length > 0 ? build(testImages) : null;

  return {
    format: 'folder',
    shape,
    classNames: layout.classNames,
    train: train.split,
    test: test?.split ?? null,
    trainNames: train.names,
    testNames: test?.names,
    corrupt,
    mixedSizes: { majority, files: mixedFiles, action: resizing ? 'resized' : 'skipped' },
  };
}
