/**
 * Well-known image sets, recognised from their decoded content so that they get their real names
 * whatever folder they sit in and however their .gz files were recompressed (Debian's Fashion-MNIST
 * has no classes.txt and other bytes than the published archives): first by the sha256 of the
 * training labels, else by shape and counts plus the first labels of each split, which also catches
 * the usual subsets (the first N images of a split).
 */
import { createHash } from 'node:crypto';

export interface WellKnownDataset {
  name: string;
  classNames: string[];
  shape: [number, number, number];
  /** Images in the full training and test splits. */
  trainCount: number;
  testCount: number;
  /** sha256 (hex) of the full training split's label bytes, where known. */
  trainLabelsSha256?: string;
  /** The first labels of each split, in order. */
  firstTrainLabels: number[];
  firstTestLabels: number[];
}

export const WELL_KNOWN_DATASETS: readonly WellKnownDataset[] = [
  {
    name: 'Fashion-MNIST',
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    shape: [28, 28, 1], trainCount: 60_000, testCount: 10_000,
    trainLabelsSha256: '657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7',
    firstTrainLabels: [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4],
    firstTestLabels: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 4, 8, 0],
  },
  {
    name: 'MNIST',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    shape: [28, 28, 1], trainCount: 60_000, testCount: 10_000,
    firstTrainLabels: [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
    firstTestLabels: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
  },
];

export interface DecodedLabels {
  shape: [number, number, number];
  classCount: number;
  train: { labels: Uint8Array; n: number };
  test: { labels: Uint8Array; n: number } | null;
}

const startsWith = (labels: Uint8Array, n: number, prefix: readonly number[]) => n >= prefix.length && prefix.every((v, i) => labels[i] === v);

/** The well-known dataset these images are (or the first images of), or null. */
export function recognize(data: DecodedLabels): WellKnownDataset | null {
  for (const known of WELL_KNOWN_DATASETS) {
    if (data.shape.join('×') !== known.shape.join('×') || data.classCount !== known.classNames.length) continue;
    const full = data.train.n === known.trainCount;
    if (full && known.trainLabelsSha256) {
      const hash = createHash('sha256').update(data.train.labels.subarray(0, data.train.n)).digest('hex');
      if (hash === known.trainLabelsSha256) return known;
    }
    const trainFits = data.train.n <= known.trainCount && startsWith(data.train.labels, data.train.n, known.firstTrainLabels);
    const testFits = data.test === null || (data.test.n <= known.testCount && startsWith(data.test.labels, data.test.n, known.firstTestLabels));
    if (trainFits && testFits) return known;
  }
  return null;
}

/** Names an import falls back to when nothing names the classes: "0", "1", … */
export function areDefaultNames(names: readonly string[]): boolean {
  return names.every((n, i) => n === String(i));
}
