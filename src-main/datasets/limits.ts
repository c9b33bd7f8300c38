/**
 * Every bound on what an import may turn into memory, disk or threads, in one place. Each is checked
 * before the memory is allocated (from a header, a file's size or a declared count), and again while
 * bytes really arrive where a header could lie (archive entries, gzip streams). A refusal names the
 * number and the limit. The service may pass other values through ImportOptions.limits.
 */
import { DatasetImportError } from './types.js';

export interface ImportLimits {
  /** Bytes of one image file, read whole before decoding. */
  maxImageFileBytes: number;
  /** Width × height of one image, read from its header (or an IDX/CSV shape) before decoding. */
  maxImagePixels: number;
  /** Bytes of one IDX or CSV file read whole (the gzipped size for .gz). */
  maxFileBytes: number;
  /** Decoded bytes of the whole dataset (images × H × W × C, train + test), known before decoding. */
  maxDatasetBytes: number;
  /** Regular files found under a folder import. */
  maxFiles: number;
  /** Entries (files, folders, links) in one archive. */
  maxArchiveEntries: number;
  /** Uncompressed bytes of one archive entry, declared and counted. */
  maxArchiveEntryBytes: number;
  /** Uncompressed bytes of all entries of one archive, declared and counted. */
  maxArchiveTotalBytes: number;
  /** Uncompressed ÷ compressed bytes of an archive, enforced once it expands past COMPRESSION_RATIO_FLOOR_BYTES. */
  maxCompressionRatio: number;
  /** Imports running at once in this process (each holds a worker thread and its decoded tensors). */
  maxConcurrentImports: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULT_IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxImageFileBytes: 64 * MiB,
  maxImagePixels: 50_000_000,
  maxFileBytes: 1 * GiB,
  maxDatasetBytes: 1 * GiB,
  maxFiles: 1_000_000,
  maxArchiveEntries: 200_000,
  maxArchiveEntryBytes: 1 * GiB,
  maxArchiveTotalBytes: 4 * GiB,
  maxCompressionRatio: 100,
  maxConcurrentImports: 2,
});

/**
 * Files and cache files are read whole with readFileSync, which refuses 2 GiB and more; the cache
 * file holds the decoded dataset. So these two cannot be raised past this.
 */
export const MAX_WHOLE_FILE_BYTES = 2 * GiB - 1;

/** Below this many expanded bytes an archive may be compressed at any ratio (small files of zeros are harmless). */
export const COMPRESSION_RATIO_FLOOR_BYTES = 64 * MiB;

/** A zip's central directory is read whole: no real archive's comes near this. */
export const MAX_ZIP_DIRECTORY_BYTES = 64 * MiB;

/** A tar long-name or pax header is held in memory: names are never this long. */
export const MAX_TAR_META_BYTES = 1 * MiB;

/** The defaults with `overrides` applied; an override that is not a positive number is refused. */
export function resolveLimits(overrides: Partial<ImportLimits> | undefined): ImportLimits {
  const limits: ImportLimits = { ...DEFAULT_IMPORT_LIMITS };
  if (overrides === undefined) return limits;
  if (typeof overrides !== 'object' || overrides === null) throw new DatasetImportError('unsupported', `limits: expected an object of limits`);
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_IMPORT_LIMITS, key)) {
      throw new DatasetImportError('unsupported', `limits.${key}: no such import limit (known: ${Object.keys(DEFAULT_IMPORT_LIMITS).join(', ')})`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value > 0) || Number.isNaN(value)) {
      throw new DatasetImportError('unsupported', `limits.${key} ${JSON.stringify(value)}: expected a positive number`);
    }
    limits[key as keyof ImportLimits] = value;
  }
  for (const key of ['maxFileBytes', 'maxDatasetBytes', 'maxImageFileBytes'] as const) {
    if (limits[key] > MAX_WHOLE_FILE_BYTES) {
      throw new DatasetImportError('unsupported', `limits.${key} ${limits[key]}: at most ${MAX_WHOLE_FILE_BYTES} (files are read whole, and Node reads at most 2 GiB at once)`);
    }
  }
  return limits;
}

/** 1,234,567 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "2.0 GiB (2,147,483,648 bytes)": readable, and exact for whoever compares it with `ls -l`. */
export function formatBytes(bytes: number): string {
  const exact = `${formatCount(bytes)} byte${bytes === 1 ? '' : 's'}`;
  if (bytes < KiB) return exact;
  const [value, unit] = bytes >= GiB ? [bytes / GiB, 'GiB'] : bytes >= MiB ? [bytes / MiB, 'MiB'] : [bytes / KiB, 'KiB'];
  return `${value.toFixed(1)} ${unit} (${exact})`;
}

/** A whole import refused at a limit: code 'too_large', the numbers in the message and in `limit`. */
export function limitError(name: keyof ImportLimits, message: string, actual: number, limit: number, file?: string): DatasetImportError {
  return new DatasetImportError('too_large', message, file, { name, actual, limit });
}
