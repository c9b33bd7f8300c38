/**
 * A folder with one subfolder per class of PNG/JPEG images (optionally under train/ and test/).
 * Files are recognised by their first bytes, not their extension. Each image is decoded once with
 * sharp to raw pixels at its own size; the majority size and the channel count (1 if every image is
 * grayscale, else 3) are decided afterwards, then every kept image is converted into one NHWC buffer.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import sharp from 'sharp';
import type { TensorSplit } from './cache.js';
import type { DecodedDataset, ProgressSink } from './decoded.js';
import { readHead } from './read-head.js';
import { grayToRgb, rgbToGray } from './transform.js';
import { DatasetImportError, type ImportOptions, type LintIssue } from './types.js';

/** Image kinds sharp decodes that we accept, by magic bytes. */
export function sniffImage(head: Uint8Array): 'png' | 'jpeg' | 'webp' | 'gif' | null {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47 && head[4] === 0x0d && head[5] === 0x0a && head[6] === 0x1a && head[7] === 0x0a) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && String.fromCharCode(...head.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...head.subarray(8, 12)) === 'WEBP') return 'webp';
  if (head.length >= 6 && String.fromCharCode(...head.subarray(0, 4)) === 'GIF8') return 'gif';
  return null;
}

/** Hidden files and OS litter are not part of a dataset. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini' || name === '__MACOSX';
}

export function listEntries(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (isIgnoredName(entry.name)) continue;
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(path).isDirectory());
    if (isDir) dirs.push(path);
    else files.push(path);
  }
  const byName = (a: string, b: string): number => basename(a).localeCompare(basename(b), 'en', { numeric: true });
  return { files: files.sort(byName), dirs: dirs.sort(byName) };
}

function walkFiles(dir: string, out: string[]): void {
  const { files, dirs } = listEntries(dir);
  out.push(...files);
  for (const d of dirs) walkFiles(d, out);
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
export function scanFolder(root: string): FolderLayout {
  const { files, dirs } = listEntries(root);
  if (files.length === 0 && dirs.length === 0) throw new DatasetImportError('empty', `${root}: empty folder`, root);
  const trainDir = dirs.find((d) => TRAIN_NAMES.test(basename(d)));
  const testDir = dirs.find((d) => TEST_NAMES.test(basename(d)));
  const isSplit = trainDir !== undefined && listEntries(trainDir).dirs.length > 0;
  const classDirs = new Map<string, { train: string[]; test: string[] }>();
  const addClasses = (parent: string, which: 'train' | 'test'): void => {
    for (const d of listEntries(parent).dirs) {
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
        const paths: string[] = [];
        walkFiles(d, paths);
        for (const path of paths) candidates.push({ path, label, test: which === 'test' });
      }
    }
  });
  return { classNames, candidates, split: isSplit };
}

interface DecodedImage {
  candidate: Candidate;
  name: string;
  /** size of the file's image (for the mixed-size lint), which `data` may already be resized from */
  fileWidth: number;
  fileHeight: number;
  /** size of `data` */
  width: number;
  height: number;
  /** 1 or 3 (alpha is flattened onto black) */
  channels: number;
  gray: boolean;
  data: Buffer;
}

function allChannelsEqual(data: Buffer, pixels: number): boolean {
  for (let p = 0; p < pixels; p++) if (data[3 * p] !== data[3 * p + 1] || data[3 * p] !== data[3 * p + 2]) return false;
  return true;
}

/**
 * Decodes one file to raw pixels, resized at once when every image is to be resized anyway (so a folder
 * of large photos never sits in memory at full size), and kept as 1 channel when it is gray.
 */
async function decodeOne(candidate: Candidate, name: string, resizeTo?: [number, number]): Promise<DecodedImage | LintIssue> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(candidate.path);
  } catch (error) {
    return { file: name, reason: `unreadable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  if (bytes.length === 0) return { file: name, reason: 'empty file (0 bytes)' };
  const kind = sniffImage(bytes.subarray(0, 16));
  if (!kind) return { file: name, reason: 'not a PNG or JPEG image (unrecognised content)' };
  try {
    const meta = resizeTo ? await sharp(bytes).metadata() : null;
    // autoOrient: phone photos store their rotation in EXIF; the pixels should be upright
    let pipeline = sharp(bytes, { autoOrient: true }).flatten({ background: '#000000' });
    if (resizeTo) pipeline = pipeline.resize(resizeTo[1], resizeTo[0], { fit: 'fill' });
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) return { file: name, reason: `${info.channels} channels after removing alpha` };
    const pixels = info.width * info.height;
    const fileSize = { fileWidth: meta?.autoOrient.width ?? info.width, fileHeight: meta?.autoOrient.height ?? info.height };
    if (info.channels === 3 && allChannelsEqual(data, pixels)) {
      // sharp hands gray images back as sRGB; keep one channel
      const one = Buffer.alloc(pixels);
      for (let p = 0; p < pixels; p++) one[p] = data[3 * p]!;
      return { candidate, name, ...fileSize, width: info.width, height: info.height, channels: 1, gray: true, data: one };
    }
    return { candidate, name, ...fileSize, width: info.width, height: info.height, channels: info.channels, gray: info.channels === 1, data };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'decode failed';
    return { file: name, reason: `corrupt ${kind.toUpperCase()}: ${message}` };
  }
}

export async function decodeFolder(root: string, options: ImportOptions, progress: ProgressSink, isCancelled: () => boolean): Promise<DecodedDataset> {
  const layout = scanFolder(root);
  const { candidates } = layout;
  if (layout.classNames.length < 2) {
    throw new DatasetImportError('single_class', `${root}: only one class folder ('${layout.classNames[0]}'); a classifier needs at least two`, root);
  }
  if (layout.classNames.length > 256) {
    throw new DatasetImportError('unsupported', `${root}: ${layout.classNames.length} class folders; at most 256 classes are supported`, root);
  }
  if (candidates.length === 0) throw new DatasetImportError('no_images', `${root}: the class folders hold no files`, root);
  progress('scanning', candidates.length, candidates.length, `${candidates.length} files in ${layout.classNames.length} class folders`);

  // Decode with a few images in flight: sharp works on libuv's pool, one vips thread per image.
  sharp.concurrency(1);
  const decoded: DecodedImage[] = [];
  const corrupt: LintIssue[] = [];
  let next = 0, done = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length && !isCancelled()) {
      const candidate = candidates[next++]!;
      const result = await decodeOne(candidate, relative(root, candidate.path), options.resizeTo);
      if ('reason' in result) corrupt.push(result);
      else decoded.push(result);
      done++;
      progress('decoding', done, candidates.length);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const order = new Map(candidates.map((c, i) => [c.path, i]));
  decoded.sort((a, b) => order.get(a.candidate.path)! - order.get(b.candidate.path)!);
  corrupt.sort((a, b) => a.file.localeCompare(b.file));

  if (decoded.length === 0) {
    const example = corrupt[0] ? ` (e.g. ${corrupt[0].file}: ${corrupt[0].reason})` : '';
    throw new DatasetImportError('no_images', `${root}: none of the ${candidates.length} files is a decodable PNG/JPEG image${example}`, root);
  }

  // Majority size; ties go to the size seen first.
  const sizeCounts = new Map<string, number>();
  for (const image of decoded) {
    const key = `${image.fileHeight}x${image.fileWidth}`;
    sizeCounts.set(key, (sizeCounts.get(key) ?? 0) + 1);
  }
  let majorityKey = '', majorityCount = 0;
  for (const [key, count] of sizeCounts) if (count > majorityCount) [majorityKey, majorityCount] = [key, count];
  const majority = majorityKey.split('x').map(Number) as [number, number];
  const offSize = decoded.filter((d) => d.fileHeight !== majority[0] || d.fileWidth !== majority[1]);
  const mixedPolicy = options.mixedSizes ?? 'skip';
  if (offSize.length > 0 && mixedPolicy === 'refuse' && !options.resizeTo) {
    const first = offSize[0]!;
    throw new DatasetImportError('mixed_sizes', `${root}: ${offSize.length} of ${decoded.length} images are not ${majority[0]}×${majority[1]} like the rest, e.g. ${first.name} is ${first.fileHeight}×${first.fileWidth}`, first.candidate.path);
  }
  const resizing = options.resizeTo !== undefined || mixedPolicy === 'resize';
  const mixedFiles: LintIssue[] = offSize.map((d) => ({ file: d.name, reason: `${d.fileHeight}×${d.fileWidth}, majority is ${majority[0]}×${majority[1]}` }));
  const kept = resizing ? decoded : decoded.filter((d) => d.fileHeight === majority[0] && d.fileWidth === majority[1]);

  const [outH, outW] = options.resizeTo ?? majority;
  const channels = options.channels ?? (kept.every((d) => d.gray) ? 1 : 3);
  const shape: [number, number, number] = [outH, outW, channels];
  const imageSize = outH * outW * channels;

  const build = async (images: DecodedImage[]): Promise<{ split: TensorSplit; names: string[] }> => {
    const buffer = new Uint8Array(images.length * imageSize);
    const labels = new Uint8Array(images.length);
    for (let i = 0; i < images.length; i++) {
      const image = images[i]!;
      let pixels: Buffer = image.data;
      const c = image.channels;
      if (image.height !== outH || image.width !== outW) {
        pixels = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } })
          .resize(outW, outH, { fit: 'fill' })
          .raw()
          .toBuffer();
      }
      const offset = i * imageSize;
      if (c === channels) buffer.set(pixels, offset);
      else if (channels === 1) rgbToGray(pixels, outH * outW, buffer, offset);
      else grayToRgb(pixels, outH * outW, buffer, offset);
      labels[i] = image.candidate.label;
    }
    return { split: { images: buffer, labels, n: images.length }, names: images.map((d) => d.name) };
  };
  const train = await build(kept.filter((d) => !d.candidate.test));
  const testImages = kept.filter((d) => d.candidate.test);
  const test = testImages.length > 0 ? await build(testImages) : null;

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
