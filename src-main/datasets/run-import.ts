/**
 * The whole import, run inside the import worker (or in-process by tests of the readers): find the
 * layout, decode, apply the resize/channel options, lint, hash, and write the cache file.
 */
import { lstatSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { extractArchive, sniffArchive } from './archive.js';
import { contentHashOf, diskFullError, writeCache } from './cache.js';
import { decodeCsv } from './csv.js';
import type { DecodedDataset, ProgressSink } from './decoded.js';
import { decodeFolder, sniffImage } from './folder.js';
import { decodeIdx, findIdxPairs, pairForFile, sniffIdx } from './idx.js';
import { formatBytes, formatCount, limitError, resolveLimits, type ImportLimits } from './limits.js';
import { countPerClass, lintDataset } from './lint.js';
import { fileErrorReason, specialFileReason } from './reasons.js';
import { readHead } from './regular-file.js';
import { convertChannels, resizeSplit } from './transform.js';
import { DatasetImportError, type DatasetFormat, type ImportOptions, type ImportedDataset, type LintIssue } from './types.js';
import { FolderWalker } from './walk.js';

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
  limits: ImportLimits;
  progress: ProgressSink;
  isCancelled: () => boolean;
  /** where an archive may be extracted; cleared once used (no archive inside an archive) */
  extractDir: string | null;
}

/** The walker's skipped entries as lint issues, named relative to the folder the data was read from. */
function skippedIssues(walker: FolderWalker, dataRoot: string): LintIssue[] {
  return walker.skipped.map(({ path, reason }) => {
    const inside = path.startsWith(dataRoot + sep);
    return { file: relative(inside ? dataRoot : walker.root, path), reason };
  });
}

async function decodeDirectory(dir: string, context: DecodeContext, walker = new FolderWalker(dir, context.limits)): Promise<DecodedDataset> {
  const { files, dirs } = walker.list(dir);
  const withSkipped = (data: DecodedDataset): DecodedDataset => {
    const corrupt = [...data.corrupt, ...skippedIssues(walker, dir)].sort((a, b) => a.file.localeCompare(b.file));
    return { ...data, corrupt };
  };
  if (files.length === 0 && dirs.length === 0) {
    const skipped = skippedIssues(walker, dir);
    const why = skipped.length > 0 ? ` (skipped: ${skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`).join('; ')})` : '';
    throw new DatasetImportError('empty', `${dir}: empty folder${why}`, dir);
  }
  const pairs = findIdxPairs(files, context.limits);
  if (pairs.length > 0) return withSkipped(decodeIdx(pairs, dir, context.limits, context.progress));
  const csvFiles = files.filter(isCsvFile);
  if (csvFiles.length > 0 && dirs.length === 0) return withSkipped(decodeCsv(csvFiles, context.limits, context.progress, context.options.shape));
  // Content wrapped in one top folder (as archives usually are): look inside it.
  if (files.length === 0 && dirs.length === 1) {
    const inner = walker.list(dirs[0]!);
    const holdsImages = inner.files.some((f) => sniffImage(readHead(f)) !== null);
    if (!holdsImages && (inner.files.length > 0 || inner.dirs.length > 1)) {
      return decodeDirectory(dirs[0]!, context, walker);
    }
  }
  // A folder holding just one archive (e.g. a download folder).
  if (files.length === 1 && dirs.length === 0 && sniffArchive(files[0]!)) return withSkipped(await decodeArchiveFile(files[0]!, context));
  return withSkipped(await decodeFolder(dir, walker, context.options, context.limits, context.progress, context.isCancelled));
}

async function decodeArchiveFile(path: string, context: DecodeContext): Promise<DecodedDataset> {
  const target = context.extractDir;
  if (!target) throw new DatasetImportError('unsupported', `${basename(path)}: an archive inside an archive is not supported`, path);
  context.extractDir = null;
  context.progress('scanning', 0, 1, `extracting ${basename(path)}`);
  // Name the archive, not the private folder it was extracted to (which is about to be removed).
  const rename = (text: string): string => text.split(target).join(basename(path));
  try {
    await extractArchive(path, target, context.limits);
    return await decodeDirectory(target, context);
  } catch (error) {
    if (!(error instanceof DatasetImportError)) throw error;
    throw new DatasetImportError(error.code, rename(error.message), error.file === undefined ? path : rename(error.file), error.limit);
  }
}

/** The source's kind, following a link the user chose; anything but a regular file or a folder is refused. */
function sourceKind(source: string): 'dir' | 'file' {
  let stat;
  try {
    stat = statSync(source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const dangling = (() => { try { return lstatSync(source).isSymbolicLink(); } catch { return false; } })();
      throw new DatasetImportError('not_found', `${source}: no such file or folder${dangling ? ' (a broken link)' : ''}`, source);
    }
    throw new DatasetImportError('unreadable', `${source}: ${fileErrorReason(error)}`, source);
  }
  if (stat.isDirectory()) return 'dir';
  if (stat.isFile()) {
    if (stat.size === 0) throw new DatasetImportError('empty', `${source}: empty file`, source);
    return 'file';
  }
  throw new DatasetImportError('unsupported', `${source}: ${specialFileReason(stat)} or folder`, source);
}

async function decodeSource(source: string, context: DecodeContext): Promise<{ data: DecodedDataset; archive: boolean }> {
  if (sourceKind(source) === 'dir') {
    const data = await decodeDirectory(source, context);
    return { data, archive: context.extractDir === null };
  }
  if (sniffArchive(source)) return { data: await decodeArchiveFile(source, context), archive: true };
  if (sniffIdx(source)) return { data: decodeIdx(pairForFile(source, context.limits), dirname(source), context.limits, context.progress), archive: false };
  if (isCsvFile(source)) return { data: decodeCsv([source], context.limits, context.progress, context.options.shape), archive: false };
  if (sniffImage(readHead(source))) {
    throw new DatasetImportError('unsupported', `${source}: a single image; import the folder that holds one subfolder per class`, source);
  }
  throw new DatasetImportError('unsupported', `${source}: not a folder, IDX, CSV, .zip or .tar.gz file (unrecognised content)`, source);
}

function defaultName(source: string): string {
  return basename(source).replace(/\.(tar\.gz|tgz|tar|zip|csv|gz)$/i, '') || source;
}

function applyOptions(source: string, data: DecodedDataset, options: ImportOptions, limits: ImportLimits): DecodedDataset {
  if (data.format === 'folder') return data; // the folder reader resizes and converts with sharp itself
  let { shape, train, test } = data;
  const [outH, outW] = options.resizeTo ?? shape;
  const outC = options.channels ?? shape[2];
  const images = train.n + (test?.n ?? 0);
  const outBytes = images * outH * outW * outC;
  if (outBytes > limits.maxDatasetBytes) {
    throw limitError('maxDatasetBytes', `${source}: ${formatCount(images)} images converted to ${outH}×${outW}×${outC} would be ${formatBytes(outBytes)}, more than the limit of ${formatBytes(limits.maxDatasetBytes)} per dataset`, outBytes, limits.maxDatasetBytes, source);
  }
  if (options.resizeTo && (options.resizeTo[0] !== shape[0] || options.resizeTo[1] !== shape[1])) {
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
  const limits = resolveLimits(options.limits);
  progress('scanning', 0, 1, source);
  let decoded: { data: DecodedDataset; archive: boolean };
  try {
    decoded = await decodeSource(source, { options, limits, progress, isCancelled, extractDir: input.extractDir });
  } catch (error) {
    throw diskFullError(error, input.extractDir) ?? error;
  } finally {
    rmSync(input.extractDir, { recursive: true, force: true });
  }
  const data = applyOptions(source, decoded.data, options, limits);

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
  const written = writeCache(input.cacheDir, data, contentHash, input.tempPath, (done, total) => progress('writing', done, total));
  if (written.reused) {
    lint.warnings.push(`same content as an earlier import: reusing ${basename(written.cacheFile)}`);
    progress('writing', 1, 1);
  }

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
