/** Public types of the dataset library (see index.ts for the functions). */
import type { ImportLimits } from './limits.js';

export type DatasetFormat = 'folder' | 'idx' | 'csv' | 'archive';

export interface ImportOptions {
  name?: string;
  /** What to do with images whose size differs from the majority: skip them (listed in the lint report),
   *  resize them to the majority size, or refuse the whole import. Default 'skip'. */
  mixedSizes?: 'skip' | 'resize' | 'refuse';
  /** Resize every image to this [H, W] (optional). */
  resizeTo?: [number, number];
  /** Force grayscale (1 channel) or RGB (3); default detect. */
  channels?: 1 | 3;
  /** CSV only: the [H, W, C] of each row's pixels when they are not a square grayscale image
   *  (a square RGB image, 3·s² pixels, is recognised without it). Pixels are H, W, C order, channel fastest. */
  shape?: [number, number, number];
  /** Names for the classes, in label order (folders: their sorted subfolder names' order); they
   *  win over classes.txt and over the names of a recognised well-known dataset. */
  classNames?: string[];
  /** Overrides of the import limits (limits.ts: DEFAULT_IMPORT_LIMITS); each a positive number. */
  limits?: Partial<ImportLimits>;
}

export interface LintIssue {
  file: string;
  reason: string;
}

export interface LintReport {
  /** Files skipped, each with the reason in words: unreadable, undecodable, not an image, not a regular
   *  file (links that lead out of the folder or nowhere, pipes, sockets, devices), a name that is not
   *  valid UTF-8, or over a per-file limit (bytes, pixels). */
  corrupt: LintIssue[];
  corruptCount: number;
  mixedSizes: { majority: [number, number]; files: LintIssue[]; action: 'skipped' | 'resized' };
  /** Exact byte-identical images inside one split; `conflictingLabels` counts duplicates whose label differs. */
  duplicates: {
    groups: number;
    examples: { first: string; duplicate: string }[];
    count: number;
    conflictingLabels: number;
  };
  /** counts per class of the training split; ratio = max/min (an empty class counts as 1). */
  imbalance: { counts: number[]; ratio: number; warning: string | null };
  /** test images byte-identical to some training image */
  trainTestOverlap: { count: number; examples: string[] };
  /** human one-liners summarising the above */
  warnings: string[];
}

export interface ImportedDataset {
  name: string;
  source: string;
  format: DatasetFormat;
  /** [H, W, C] */
  shape: [number, number, number];
  classNames: string[];
  trainCount: number;
  testCount: number;
  countsPerClass: { train: number[]; test: number[] };
  /** sha256 (hex) of the decoded tensors + labels + shape + class names */
  contentHash: string;
  /** absolute path of the content-addressed cache file */
  cacheFile: string;
  /** true when a cache file with this content hash already existed and was reused as is */
  reused: boolean;
  /** For an archive: the layout found inside it ('folder' | 'idx' | 'csv'); otherwise equal to format. */
  innerFormat: Exclude<DatasetFormat, 'archive'>;
  /** Cache file size in bytes. */
  cacheBytes: number;
  lint: LintReport;
  /** The well-known dataset the images were recognised as (well-known.ts), which named the classes; null if none. */
  recognizedAs: string | null;
}

export type DatasetImportErrorCode =
  | 'not_found'
  | 'empty'
  | 'single_class'
  | 'no_images'
  | 'bad_idx'
  | 'bad_csv'
  | 'mixed_sizes'
  | 'cancelled'
  | 'unsupported'
  /** an import limit was reached (limits.ts); `limit` says which, the number and the limit */
  | 'too_large'
  /** maxConcurrentImports imports are already running in this process */
  | 'busy'
  /** the source (or a folder or file the import cannot do without) cannot be read, e.g. permission denied */
  | 'unreadable'
  /** the disk holding the cache folder is full (or over quota); nothing was kept */
  | 'disk_full';

/** Which limit refused an import, with the number found and the limit (for a UI that offers to raise it). */
export interface ImportLimitDetail {
  name: keyof ImportLimits;
  actual: number;
  limit: number;
}

/** A whole import failed. The message is one line naming the file and the problem. */
export class DatasetImportError extends Error {
  readonly code: DatasetImportErrorCode;
  readonly file?: string;
  readonly limit?: ImportLimitDetail;

  constructor(code: DatasetImportErrorCode, message: string, file?: string, limit?: ImportLimitDetail) {
    super(message);
    this.name = 'DatasetImportError';
    this.code = code;
    if (file !== undefined) this.file = file;
    if (limit !== undefined) this.limit = limit;
  }
}

export interface ImportProgress {
  phase: 'scanning' | 'decoding' | 'linting' | 'writing';
  done: number;
  total: number;
  message?: string;
}

/** Decoded tensors of a cache file: images NHWC uint8 (0..255), one label byte per image. */
export interface CachedTensors {
  shape: [number, number, number];
  classNames: string[];
  train: { images: Uint8Array; labels: Uint8Array; n: number };
  test: { images: Uint8Array; labels: Uint8Array; n: number } | null;
}
