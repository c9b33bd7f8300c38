/**
 * The whole import, run inside the import worker (or in-process by tests of the readers): find the
 * layout, decode, apply the resize/channel options, lint, hash, and write the cache file.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { contentHashOf, writeCache } from './cache.js';
import { decodeCsv } from './csv.js';
import type { DecodedDataset, ProgressSink } from './decoded.js';
import { decodeFolder, listEntries, sniffImage } from './folder.js';
import { readHead } from './read-head.js';
import { decodeIdx, findIdxPairs, pairForFile, sniffIdx } from './idx.js';
import { countPerClass, lintDataset } from './lint.js';
import { convertChannels, resizeSplit } from './transform.js';
import { DatasetImportError, type DatasetFormat, type ImportOptions, type ImportedDataset } from './types.js';
import { extractArchive, sniffArchive } from './archive.js';

export interface RunImportInput {
  source: string;
  cacheDir: string;
  options: ImportOptions;
  /** where the cache file is written before its rename; removed by the caller on cancellation */
  tempPath: string;
  /** where an archive is extracted; removed afterwards (and by the caller on cancellation) */
  extractDir: string;
}

export function isCsvFile(path: string): boolean {
  if (/\.csv$/i.test(path)) return true;
  if (!/\.txt$/i.test(path) || basename(path) === 'classes.txt') return false;
  const head = readHead(path, 256).toString('latin1');
  return /^[^\n]*[,;][^\n]*\d/.test(head);
}

interface DecodeContext {
  options: ImportOptions;
  progress: ProgressSink;
  isCancelled: () => boolean;
  /** where an archive may be extracted; cleared once used (no archive inside an archive) */
  extractDir: string | null;
}

async function decodeDirectory(dir: string, context: DecodeContext): Promise<DecodedDataset> {
  const { files, dirs } = listEntries(dir);
  if (files.length === 0 && dirs.length === 0) throw new DatasetImportError('empty', `${dir}: empty folder`, dir);
  const pairs = findIdxPairs(files);
  if (pairs.length > 0) return decodeIdx(pairs, dir, context.progress);
  const csvFiles = files.filter(isCsvFile);
  if (csvFiles.length > 0 && dirs.length === 0) return decodeCsv(csvFiles, context.progress, context.options.shape);
  // Content wrapped in one top folder (as archives usually are): look inside it.
  if (files.length === 0 && dirs.length === 1) {
    const inner = listEntries(dirs[0]!);
    const holdsImages = inner.files.some((f) => sniffImage(readHead(f)) !== null);
    if (!holdsImages && (inner.files.length > 0 || inner.dirs.length > 1)) {
      return decodeDirectory(dirs[0]!, context);
    }
  }
  // A folder holding just one archive (e.g. a download folder).
  if (files.length === 1 && dirs.length === 0 && sniffArchive(files[0]!)) return decodeArchiveFile(files[0]!, context);
  return decodeFolder(dir, context.options, context.progress, context.isCancelled);
}

async function decodeArchiveFile(path: string, context: DecodeContext): Promise<DecodedDataset> {
  const target = context.extractDir;
  if (!target) throw new DatasetImportError('unsupported', `${basename(path)}: an archive inside an archive is not supported`, path);
  context.extractDir = null;
  context.progress('scanning', 0, 1, `extracting ${basename(path)}`);
  extractArchive(path, target);
  try {
    return await decodeDirectory(target, context);
  } catch (error) {
    // Name the archive, not the private folder it was extracted to (which is about to be removed).
    if (!(error instanceof DatasetImportError)) throw error;
    const rename = (text: string): string => text.split(target).join(basename(path));
    throw new DatasetImportError(error.code, rename(error.message), error.file === undefined ? path : rename(error.file));
  }
}

async function decodeSource(source: string, context: DecodeContext): Promise<{ data: DecodedDataset; archive: boolean }> {
  if (!existsSync(source)) throw new DatasetImportError('not_found', `${source}: no such file or folder`, source);
  const stat = statSync(source);
  if (stat.isDirectory()) {
    const data = await decodeDirectory(source, context);
    return { data, archive: context.extractDir === null };
  }
  if (stat.size === 0) throw new DatasetImportError('empty', `${source}: empty file`, source);
  if (sniffArchive(source)) return { data: await decodeArchiveFile(source, context), archive: true };
  if (sniffIdx(source)) return { data: decodeIdx(pairForFile(source), dirname(source), context.progress), archive: false };
  if (isCsvFile(source)) return { data: decodeCsv([source], context.progress, context.options.shape), archive: false };
  if (sniffImage(readHead(source))) {
    throw new DatasetImportError('unsupported', `${source}: a single image; import the folder that holds one subfolder per class`, source);
  }
  throw new DatasetImportError('unsupported', `${source}: not a folder, IDX, CSV, .zip or .tar.gz file (unrecognised content)`, source);
}

function defaultName(source: string): string {
  return basename(source).replace(/\.(tar\.gz|tgz|tar|zip|csv|gz)$/i, '') || source;
}

function applyOptions(data: DecodedDataset, options: ImportOptions): DecodedDataset {
  if (data.format === 'folder') return data; // the folder reader resizes and converts with sharp itself
  let { shape, train, test } = data;
  if (options.resizeTo && (options.resizeTo[0] !== shape[0] || options.resizeTo[1] !== shape[1])) {
    const [outH, outW] = options.resizeTo;
    train = resizeSplit(train, shape, outH, outW);
    test = test && resizeSplit(test, shape, outH, outW);
    shape = [outH, outW, shape[2]];
  }
  if (options.channels && options.channels !== shape[2]) {
    train = convertChannels(train, shape, options.channels);
    test = test && convertChannels(test, shape, options.channels);
    shape = [shape[0], shape[1], options.channels];
  }
  return { ...data, shape, train, test };
}

function validateOptions(options: ImportOptions): void {
  const positive = (v: number): boolean => Number.isInteger(v) && v > 0 && v <= 4096;
  if (options.resizeTo && !(options.resizeTo.length === 2 && options.resizeTo.every(positive))) {
    throw new DatasetImportError('unsupported', `resizeTo ${JSON.stringify(options.resizeTo)}: expected [H, W], integers 1..4096`);
  }
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) {
    throw new DatasetImportError('unsupported', `channels ${String(options.channels)}: expected 1 or 3`);
  }
  if (options.shape && !(options.shape.length === 3 && options.shape.every(positive) && (options.shape[2] === 1 || options.shape[2] === 3))) {
    throw new DatasetImportError('unsupported', `shape ${JSON.stringify(options.shape)}: expected [H, W, C] with C 1 or 3`);
  }
}

export async function runImport(input: RunImportInput, progress: ProgressSink, isCancelled: () => boolean = () => false): Promise<ImportedDataset> {
  const source = resolve(input.source);
  const options = input.options;
  validateOptions(options);
  progress('scanning', 0, 1, source);
  let decoded: { data: DecodedDataset; archive: boolean };
  try {
    decoded = await decodeSource(source, { options, progress, isCancelled, extractDir: input.extractDir });
  } finally {
    rmSync(input.extractDir, { recursive: true, force: true });
  }
  const data = applyOptions(decoded.data, options);

  const trainCounts = countPerClass(data.train.labels, data.train.n, data.classNames.length);
  const present = trainCounts.filter((n) => n > 0).length;
  if (present < 2) {
    const only = data.classNames[trainCounts.findIndex((n) => n > 0)];
    throw new DatasetImportError('single_class', `${source}: all ${data.train.n} training images are class '${only}'; a classifier needs at least two classes`, source);
  }

  const lint = lintDataset(data, progress);
  progress('writing', 0, 1, 'hashing');
  const contentHash = contentHashOf(data);
  mkdirSync(input.cacheDir, { recursive: true });
  const written = writeCache(input.cacheDir, data, contentHash, input.tempPath);
  if (written.reused) lint.warnings.push(`same content as an earlier import: reusing ${basename(written.cacheFile)}`);
  progress('writing', 1, 1);

  const format: DatasetFormat = decoded.archive ? 'archive' : data.format;
  return {
    name: options.name ?? defaultName(source),
    source,
    format,
    innerFormat: data.format,
    shape: data.shape,
    classNames: data.classNames,
    trainCount: data.train.n,
    testCount: data.test?.n ?? 0,
    countsPerClass: { train: trainCounts, test: data.test ? countPerClass(data.test.labels, data.test.n, data.classNames.length) : trainCounts.map(() => 0) },
    contentHash,
    cacheFile: written.cacheFile,
    cacheBytes: written.bytes,
    reused: written.reused,
    lint,
  };
}
