/** What every format reader returns before linting and caching. */
import type { TensorSplit } from './cache.js';
import type { LintIssue } from './types.js';

export interface DecodedDataset {
  format: 'folder' | 'idx' | 'csv';
  shape: [number, number, number];
  classNames: string[];
  train: TensorSplit;
  test: TensorSplit | null;
  /** Per-image names for the lint report (file paths relative to the source); absent → "train[i]". */
  trainNames?: string[];
  testNames?: string[];
  corrupt: LintIssue[];
  mixedSizes: { majority: [number, number]; files: LintIssue[]; action: 'skipped' | 'resized' };
}

export type ProgressSink = (phase: 'scanning' | 'decoding' | 'linting' | 'writing', done: number, total: number, message?: string) => void;

/** Class names from a classes.txt (one per line), or "0".."max label". */
export function defaultClassNames(classCount: number): string[] {
  return Array.from({ length: classCount }, (_, i) => String(i));
}
