import { describe, expect, test } from 'vitest';
import type { RunDiff } from '../../../src-main/contract/index.js';
import { FakeService } from '../../test/fake-client.js';
import { thumbnail } from '../../test/fixtures.js';
import { FLIPPED_PAGE, RunDiffState } from './run-diff.svelte.js';

const metrics = (f1: number) => ({ className: 'x', precision: f1, recall: f1, f1, support: 10 });
const flipped = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ index: from + i, label: 0, predictedA: 1, predictedB: 0 }));

function diffOf(fixed: number, broken: number): RunDiff {
  return {
    a: { id: 1, name: 'a' }, b: { id: 2, name: 'b' },
    layers: [{ positions: [1, 1], values: ['flatten', 'flatten'], changes: ['same', 'same'] }, { positions: [null, 2], values: [null, 'dropout 0.25'], changes: ['same', 'inserted'] }],
    hyperparameters: [{ path: 'optimizer.learningRate', a: 0.01, b: 0.03 }],
    evaluation: {
      datasetId: 3, split: 'test', imageSplit: 'test', count: 1000, accuracy: { a: 0.8, b: 0.82 },
      perClass: [{ className: 'T-shirt/top', a: metrics(0.7), b: metrics(0.75), f1Delta: 0.05 }],
      fixed: flipped(0, fixed), broken: flipped(500, broken), fixedCount: fixed, brokenCount: broken,
    },
    evaluationNote: null,
  };
}

describe('run diff state', () => {
  test('the diff arrives with the thumbnails of the first page of each direction, from the evaluated split', async () => {
    const service = new FakeService();
    service.answer('diffRuns', diffOf(30, 3));
    service.answer('getThumbnails', (r) => r.indices.map((i) => thumbnail(r.datasetId, r.split, i)));
    const diff = new RunDiffState(service.client);
    await diff.load(1, 2);
    expect(service.requestsOf('diffRuns')).toEqual([{ a: 1, b: 2 }]);
    const [first] = service.requestsOf('getThumbnails');
    expect(first).toMatchObject({ datasetId: 3, split: 'test' });
    expect(first!.indices).toEqual([...Array.from({ length: FLIPPED_PAGE }, (_, i) => i), 500, 501, 502]);
    expect(Object.keys(diff.thumbnails)).toHaveLength(FLIPPED_PAGE + 3);
  });

  test('"show more" fetches only the next page\'s thumbnails', async () => {
    const service = new FakeService();
    service.answer('diffRuns', diffOf(30, 3));
    service.answer('getThumbnails', (r) => r.indices.map((i) => thumbnail(r.datasetId, r.split, i)));
    const diff = new RunDiffState(service.client);
    await diff.load(1, 2);
    await diff.more('fixed');
    expect(service.requestsOf('getThumbnails')[1]!.indices).toEqual([24, 25, 26, 27, 28, 29]);
    expect(diff.shownCount.fixed).toBe(2 * FLIPPED_PAGE);
  });

  test('a refused diff shows the service\'s message and no stale diff', async () => {
    const service = new FakeService();
    service.answer('diffRuns', diffOf(1, 1));
    service.answer('getThumbnails', []);
    const diff = new RunDiffState(service.client);
    await diff.load(1, 2);
    service.refuse('diffRuns', { code: 'not_found', message: 'no run with id 7' });
    await diff.load(1, 7);
    expect(diff.diff).toBeNull();
    expect(diff.error).toBe('no run with id 7');
  });
});
