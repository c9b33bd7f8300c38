import { describe, expect, test } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import { detail, evaluation, mistake, run, thumbnail } from '../../test/fixtures.js';
import { EvaluationState, PAGE_SIZE } from './evaluation.svelte.js';
import { RunsState } from './runs.svelte.js';

async function started() {
  const service = new FakeService();
  service.answer('listRuns', [run({ id: 1, status: 'completed' }), run({ id: 2, status: 'completed', datasetId: 2 })]);
  service.answer('getRun', (r) => detail({ id: r.id, status: 'completed' }));
  service.answer('getThumbnails', (r) => r.indices.map((i) => thumbnail(r.datasetId, r.split, i)));
  const runs = new RunsState(service.client);
  await runs.refresh();
  await runs.select(1);
  return { service, runs, evaluation: new EvaluationState(service.client, runs) };
}

const shownImage = (state: EvaluationState, index: number) => {
  const m = state.pageItems.find((x) => x.index === index)!;
  const t = state.thumbnailOf(state.current!, m);
  return t ? atob(t.base64) : null;
};

describe('evaluation state', () => {
  test('evaluates on the chosen split and shows the result for the selected run', async () => {
    const { service, evaluation: state } = await started();
    service.answer('evaluateRun', (r) => evaluation({ id: 10, runId: r.runId, split: r.split ?? 'test' }));
    await state.evaluate(1);
    expect(service.requestsOf('evaluateRun')).toEqual([{ runId: 1 }]);
    state.split = 'validation';
    await state.evaluate(1);
    expect(service.requestsOf('evaluateRun')[1]).toEqual({ runId: 1, split: 'validation' });
    expect(state.current).toMatchObject({ runId: 1, split: 'validation' });
    expect(state.running).toBeNull();
  });

  test('the gallery pages through the mistakes, loading each page\'s thumbnails once', async () => {
    const { service, evaluation: state } = await started();
    const misclassified = Array.from({ length: 60 }, (_, i) => mistake(1000 + i));
    service.answer('evaluateRun', evaluation({ id: 11, misclassified }));
    await state.evaluate(1);
    expect(state.pageCount).toBe(3);
    expect(state.page).toBe(0);
    expect(state.pageItems.map((m) => m.index)).toEqual(misclassified.slice(0, PAGE_SIZE).map((m) => m.index));
    expect(service.requestsOf('getThumbnails')).toEqual([{ datasetId: 1, split: 'test', indices: misclassified.slice(0, 24).map((m) => m.index), scale: 3 }]);

    await state.showPage(2);
    expect(state.pageItems.map((m) => m.index)).toEqual(misclassified.slice(48).map((m) => m.index));
    expect(service.requestsOf('getThumbnails')[1]!.indices).toEqual(misclassified.slice(48).map((m) => m.index));
    expect(shownImage(state, 1050)).toBe('1/test/1050');

    await state.showPage(0);
    await state.showPage(3);
    expect(state.page).toBe(0);
    expect(service.requestsOf('getThumbnails')).toHaveLength(2);
  });

  test('a thumbnail is the image of its own dataset and split: index 3 of the training images is not index 3 of the test images', async () => {
    const { service, runs, evaluation: state } = await started();
    service.answer('evaluateRun', (r) => evaluation({ id: r.split === 'train' ? 21 : 20, runId: r.runId, split: r.split ?? 'test', misclassified: [mistake(3)] }));
    await state.evaluate(1);
    expect(shownImage(state, 3)).toBe('1/test/3');
    state.split = 'train';
    await state.evaluate(1);
    expect(shownImage(state, 3)).toBe('1/train/3');
    // Validation images are training images too: the same thumbnail, no new request.
    const requests = service.requestsOf('getThumbnails').length;
    state.split = 'validation';
    service.answer('evaluateRun', evaluation({ id: 22, split: 'validation', misclassified: [mistake(3)] }));
    await state.evaluate(1);
    expect(shownImage(state, 3)).toBe('1/train/3');
    expect(service.requestsOf('getThumbnails')).toHaveLength(requests);

    // Another run on another dataset: its own image 3.
    await runs.select(2);
    state.split = null;
    service.answer('evaluateRun', evaluation({ id: 23, runId: 2, datasetId: 2, misclassified: [mistake(3)] }));
    await state.evaluate(2);
    expect(shownImage(state, 3)).toBe('2/test/3');
  });

  test('Cancel stops the running evaluation; its refusal is the error and the last result stays', async () => {
    const { service, evaluation: state } = await started();
    service.answer('evaluateRun', evaluation({ id: 30, accuracy: 0.81 }));
    await state.evaluate(1);
    const evaluating = service.hold('evaluateRun');
    const again = state.evaluate(1);
    expect(state.running).toBe(1);
    service.answer('cancelEvaluation', { cancelled: true });
    await state.cancel();
    expect(service.requestsOf('cancelEvaluation')).toEqual([{ runId: 1 }]);
    evaluating.refuse({ code: 'cancelled', message: 'evaluation of run 1 cancelled' });
    await again;
    expect(state.error).toBe('evaluation of run 1 cancelled');
    expect(state.running).toBeNull();
    expect(state.current).toMatchObject({ id: 30, accuracy: 0.81 });
  });

  test('a run\'s newest stored evaluation is shown without evaluating again', async () => {
    const { service, runs, evaluation: state } = await started();
    service.answer('getRun', detail({ id: 1, status: 'completed', evaluations: [evaluation({ id: 40 }), evaluation({ id: 41, misclassified: [mistake(8)] })] }));
    await runs.select(1);
    state.adoptStored();
    await settle();
    expect(state.current?.id).toBe(41);
    expect(shownImage(state, 8)).toBe('1/test/8');
    expect(service.requestsOf('evaluateRun')).toEqual([]);
  });
});
