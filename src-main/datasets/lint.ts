/**
 * The lint report: exact duplicates (by a fast 53-bit hash of each image, confirmed byte by byte),
 * train/test overlap, class imbalance, plus the corrupt and mixed-size files the reader collected.
 */
import type { DecodedDataset, ProgressSink } from './decoded.js';
import type { LintReport } from './types.js';

const MAX_EXAMPLES = 10;
/** max/min class count above which imbalance is worth a warning */
export const IMBALANCE_WARNING_RATIO = 2;

/** 53-bit hash (two 32-bit multiply-xor lanes, cyrb53's finaliser): ~1 GB/s, collisions checked anyway. */
export function imageHash(bytes: Uint8Array, start: number, end: number): number {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Index of every distinct image of a split: hash → indices of distinct images with that hash. */
class ImageIndex {
  private readonly byHash = new Map<number, number[]>();
  constructor(private readonly images: Uint8Array, private readonly imageSize: number) {}

  /** The index of an earlier identical image, or -1 after recording this one as new. */
  addOrFind(index: number): number {
    const start = index * this.imageSize;
    const hash = imageHash(this.images, start, start + this.imageSize);
    const known = this.byHash.get(hash);
    if (known) {
      for (const k of known) if (sameBytes(this.images, k * this.imageSize, this.images, start, this.imageSize)) return k;
      known.push(index);
    } else {
      this.byHash.set(hash, [index]);
    }
    return -1;
  }

  find(other: Uint8Array, index: number): number {
    const start = index * this.imageSize;
    const known = this.byHash.get(imageHash(other, start, start + this.imageSize));
    if (known) for (const k of known) if (sameBytes(this.images, k * this.imageSize, other, start, this.imageSize)) return k;
    return -1;
  }
}

export function countPerClass(labels: Uint8Array, n: number, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  return counts;
}

export function lintDataset(data: DecodedDataset, progress: ProgressSink): LintReport {
  const [h, w, c] = data.shape;
  const imageSize = h * w * c;
  const trainName = (i: number): string => data.trainNames?.[i] ?? `train[${i}]`;
  const testName = (i: number): string => data.testNames?.[i] ?? `test[${i}]`;
  const total = data.train.n + (data.test?.n ?? 0);

  const duplicates = { groups: 0, examples: [] as { first: string; duplicate: string }[], count: 0, conflictingLabels: 0 };
  const groupsSeen = new Set<string>();
  let trainIndex: ImageIndex | null = null;
  for (const [which, split] of [['train', data.train], ['test', data.test]] as const) {
    if (!split) continue;
    const index = new ImageIndex(split.images, imageSize);
    const name = which === 'train' ? trainName : testName;
    for (let i = 0; i < split.n; i++) {
      const first = index.addOrFind(i);
      if (first >= 0) {
        duplicates.count++;
        const key = `${which}:${first}`;
        if (!groupsSeen.has(key)) {
          groupsSeen.add(key);
          duplicates.groups++;
        }
        if (split.labels[first] !== split.labels[i]) duplicates.conflictingLabels++;
        if (duplicates.examples.length < MAX_EXAMPLES) duplicates.examples.push({ first: name(first), duplicate: name(i) });
      }
      if ((i & 8191) === 0) progress('linting', (which === 'test' ? data.train.n : 0) + i, total, `duplicates in ${which}`);
    }
    if (which === 'train') trainIndex = index;
  }

  const overlap = { count: 0, examples: [] as string[] };
  if (data.test && trainIndex) {
    for (let i = 0; i < data.test.n; i++) {
      const k = trainIndex.find(data.test.images, i);
      if (k >= 0) {
        overlap.count++;
        if (overlap.examples.length < MAX_EXAMPLES) overlap.examples.push(`${testName(i)} = ${trainName(k)}`);
      }
    }
  }

  const counts = countPerClass(data.train.labels, data.train.n, data.classNames.length);
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  const ratio = max / Math.max(min, 1);
  let imbalanceWarning: string | null = null;
  if (ratio > IMBALANCE_WARNING_RATIO) {
    const big = data.classNames[counts.indexOf(max)];
    const small = data.classNames[counts.indexOf(min)];
    imbalanceWarning = `class imbalance: '${big}' has ${max} training images, '${small}' ${min} (${ratio.toFixed(1)}×)`;
  }

  const warnings: string[] = [];
  if (data.corrupt.length > 0) {
    warnings.push(`${data.corrupt.length} unreadable or non-image file${data.corrupt.length === 1 ? '' : 's'} skipped, e.g. ${data.corrupt[0]!.file}: ${data.corrupt[0]!.reason}`);
  }
  if (data.mixedSizes.files.length > 0) {
    const [mh, mw] = data.mixedSizes.majority;
    warnings.push(`${data.mixedSizes.files.length} image${data.mixedSizes.files.length === 1 ? '' : 's'} not ${mh}×${mw} ${data.mixedSizes.action}, e.g. ${data.mixedSizes.files[0]!.file} (${data.mixedSizes.files[0]!.reason.split(',')[0]})`);
  }
  const empty = counts.map((n, i) => (n === 0 ? data.classNames[i] : null)).filter((x) => x !== null);
  if (empty.length > 0) warnings.push(`no training images for class${empty.length === 1 ? '' : 'es'} ${empty.map((e) => `'${e}'`).join(', ')}`);
  if (duplicates.count > 0) {
    warnings.push(`${duplicates.count} exact duplicate image${duplicates.count === 1 ? '' : 's'} in ${duplicates.groups} group${duplicates.groups === 1 ? '' : 's'}, e.g. ${duplicates.examples[0]!.duplicate} = ${duplicates.examples[0]!.first}`);
  }
  if (duplicates.conflictingLabels > 0) warnings.push(`${duplicates.conflictingLabels} duplicate${duplicates.conflictingLabels === 1 ? ' has' : 's have'} a different label than the first copy`);
  if (imbalanceWarning) warnings.push(imbalanceWarning);
  if (overlap.count > 0) warnings.push(`${overlap.count} test image${overlap.count === 1 ? ' is' : 's are'} identical to training images, e.g. ${overlap.examples[0]}`);
  progress('linting', total, total);

  return {
    corrupt: data.corrupt,
    corruptCount: data.corrupt.length,
    mixedSizes: data.mixedSizes,
    duplicates,
    imbalance: { counts, ratio, warning: imbalanceWarning },
    trainTestOverlap: overlap,
    warnings,
  };
}

/** A report with nothing to say, for datasets made in code (tests, benchmarks). */
export function cleanLintReport(counts: number[], shape: [number, number]): LintReport {
  return {
    corrupt: [], corruptCount: 0,
    mixedSizes: { majority: shape, files: [], action: 'skipped' },
    duplicates: { groups: 0, examples: [], count: 0, conflictingLabels: 0 },
    imbalance: { counts, ratio: counts.length ? Math.max(...counts) / Math.max(1, Math.min(...counts)) : 1, warning: null },
    trainTestOverlap: { count: 0, examples: [] },
    warnings: [],
  };
}
