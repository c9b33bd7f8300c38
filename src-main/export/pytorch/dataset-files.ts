/**
 * Which of a dataset's own files an exported PyTorch project reads, found the way the import found
 * them (datasets/run-import.ts decodeDirectory): IDX pairs, CSV files, or a folder of class
 * subfolders. An archive is refused: its files exist only inside it.
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { isTestCsv } from '../../datasets/csv.js';
import { sniffImage } from '../../datasets/folder.js';
import { findIdxPairs, pairForFile, sniffIdx, type IdxPair } from '../../datasets/idx.js';
import { resolveLimits } from '../../datasets/limits.js';
import { readHead } from '../../datasets/regular-file.js';
import { isCsvFile } from '../../datasets/run-import.js';
import { FolderWalker } from '../../datasets/walk.js';
import { ExportError } from '../layout.js';
import type { DatasetFiles } from './index.js';

function idxFiles(pairs: IdxPair[]): DatasetFiles {
  const as = (p: IdxPair): [string, string] => [p.images, p.labels];
  const train = pairs.filter((p) => !p.test);
  const test = pairs.filter((p) => p.test);
  // only test-named files: they are the training data then, as the import reads them
  return train.length > 0 ? { format: 'idx', train: train.map(as), test: test.map(as) } : { format: 'idx', train: test.map(as), test: [] };
}

function csvFiles(paths: string[]): DatasetFiles {
  const split = paths.length > 1;
  const test = split ? paths.filter(isTestCsv) : [];
  const train = paths.filter((p) => !test.includes(p));
  return train.length > 0 ? { format: 'csv', train, test } : { format: 'csv', train: test, test: [] };
}

const LIMITS = resolveLimits(undefined);

function inDirectory(dir: string, walker = new FolderWalker(dir, LIMITS)): DatasetFiles {
  const { files, dirs } = walker.list(dir);
  const pairs = findIdxPairs(files, LIMITS);
  if (pairs.length > 0) return idxFiles(pairs);
  const csv = files.filter(isCsvFile);
  if (csv.length > 0 && dirs.length === 0) return csvFiles(csv);
  if (files.length === 0 && dirs.length === 1) {
    const inner = walker.list(dirs[0]!);
    const holdsImages = inner.files.some((f) => sniffImage(readHead(f)) !== null);
    if (!holdsImages && (inner.files.length > 0 || inner.dirs.length > 1)) return inDirectory(dirs[0]!, walker);
  }
  return { format: 'folder', root: dir };
}

export function datasetFiles(source: string, format: string): DatasetFiles {
  if (format === 'archive') {
    throw new ExportError(`the dataset was imported from an archive (${basename(source)}); a PyTorch project reads IDX, CSV or folder datasets: import the extracted folder and export a run on it`);
  }
  if (!existsSync(source)) throw new ExportError(`the dataset's files are gone from ${source}; a PyTorch project reads them from there`);
  if (statSync(source).isDirectory()) return inDirectory(source);
  if (sniffIdx(source)) return idxFiles(pairForFile(source, LIMITS));
  return csvFiles([source]);
}
