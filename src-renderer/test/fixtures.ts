/** Contract objects for the renderer's unit tests, filled with plausible values; override what a test is about. */
import { DEFAULT_HYPERPARAMETERS } from '../../src-main/contract/index.js';
import type { DatasetInfo, EvaluationInfo, Misclassified, RunDetail, RunSummary, Thumbnail } from '../src/lib/api.js';

export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function dataset(over: Partial<DatasetInfo> = {}): DatasetInfo {
  return {
    id: 1, name: 'Fashion-MNIST sample', source: '/samples/fashion', format: 'idx', shape: [28, 28, 1], classNames: CLASS_NAMES,
    trainCount: 5000, testCount: 1000, countsPerClass: { train: CLASS_NAMES.map(() => 500), test: CLASS_NAMES.map(() => 100) },
    contentHash: 'ab'.repeat(32),
    lint: {
      corrupt: [], corruptCount: 0, mixedSizes: { majority: [28, 28], files: [], action: 'skipped' },
      duplicates: { groups: 0, examples: [], count: 0, conflictingLabels: 0 }, imbalance: { counts: [], ratio: 1, warning: null },
      trainTestOverlap: { count: 0, examples: [] }, warnings: [],
    },
    createdAt: '2025-01-01T00:00:00.000Z', runCount: 0, notes: '', tags: [], cacheProblem: null,
    ...over,
  };
}

export function run(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 1, name: 'run one', datasetId: 1, datasetName: 'Fashion-MNIST sample', status: 'running', specHash: 'cd'.repeat(32), totalParams: 1000,
    hyperparameters: structuredClone(DEFAULT_HYPERPARAMETERS), kernelsUsed: 'fast', engineVersion: '0.1.0', parentRunId: null, parentSnapshotId: null,
    notes: '', tags: [], error: null, createdAt: '2025-01-01T00:00:00.000Z', startedAt: '2025-01-01T00:00:01.000Z', finishedAt: null,
    trainSeconds: 0, epochsDone: 0, bestEpoch: null, lastValAccuracy: null, lastTrainLoss: null, testAccuracy: null, stopReason: null,
    bestValAccuracy: null, bestMonitor: null, bestMonitorValue: null, epochOffset: 0, stepOffset: 0, sweepId: null,
    ...over,
  };
}

export function detail(over: Partial<RunDetail> = {}): RunDetail {
  return {
    ...run(over),
    spec: { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    epochs: [], batches: [], snapshots: [], evaluations: [], lineage: [], children: [],
    ...over,
  };
}

export function mistake(index: number, label = 0, predicted = 1): Misclassified {
  const probabilities = CLASS_NAMES.map((_, c) => (c === predicted ? 0.7 : c === label ? 0.2 : 0.0125));
  return { index, label, predicted, probabilities };
}

export function evaluation(over: Partial<EvaluationInfo> = {}): EvaluationInfo {
  return {
    id: 1, runId: 1, datasetId: 1, snapshotId: 1, split: 'test', accuracy: 0.8, loss: 0.5, count: 1000,
    perClass: CLASS_NAMES.map((className) => ({ className, precision: 0.8, recall: 0.8, f1: 0.8, support: 100 })),
    confusion: CLASS_NAMES.map(() => CLASS_NAMES.map(() => 10)), misclassified: [mistake(3), mistake(7)], createdAt: '2025-01-01T00:01:00.000Z',
    ...over,
  };
}

/** A thumbnail whose pixels name where it came from, so a test can tell which image is shown. */
export function thumbnail(datasetId: number, split: 'train' | 'test', index: number): Thumbnail {
  return { index, label: index % 10, className: CLASS_NAMES[index % 10]!, width: 84, height: 84, channels: 1, format: 'png', base64: btoa(`${datasetId}/${split}/${index}`) };
}
