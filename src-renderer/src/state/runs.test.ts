import { afterEach, describe, expect, test, vi } from 'vitest';
import type { RunBatchEvent, RunEpochEvent } from '../lib/api.js';
import { FakeService, settle } from '../../test/fake-client.js';
import { detail, run } from '../../test/fixtures.js';
import { LIVE_UPDATE_MS } from '../lib/cadence.js';
import { RunsState } from './runs.svelte.js';

const batch = (step: number, over: Partial<RunBatchEvent> = {}): RunBatchEvent => ({
  runId: 1, kind: 'batch', epoch: 1, batch: step + 1, batchesPerEpoch: 100, step, loss: 2 - step / 100, accuracy: step / 100, learningRate: 0.01, wallTime: step * 0.1, imagesPerSecond: null, ...over,
});
const epochEnd = (step: number, over: Partial<RunEpochEvent> = {}): RunEpochEvent => ({
  runId: 1, kind: 'epoch', epoch: 1, epochs: 5, step, trainLoss: 1.2, trainAccuracy: 0.6, valLoss: 1.1, valAccuracy: 0.65, learningRate: 0.01,
  imagesPerSecond: 900, seconds: 3, wallTime: 3, improved: true, snapshotId: 7, ...over,
});

async function started(list = [run()]) {
  const service = new FakeService();
  service.answer('listRuns', list);
  const runs = new RunsState(service.client);
  await runs.refresh();
  return { service, runs };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('runs state', () => {
  test('a runStatus event changes that run in the list, and only that run', async () => {
    const { service, runs } = await started([run({ id: 1 }), run({ id: 2, name: 'other' })]);
    service.emit('runStatus', { runId: 1, status: 'paused', previous: 'running', error: null, stopReason: null, kernelsUsed: 'reference' });
    expect(runs.list.map((r) => [r.id, r.status, r.kernelsUsed])).toEqual([[1, 'paused', 'reference'], [2, 'running', 'fast']]);
  });

  test('a runStatus event of a run the list does not have reads the list again', async () => {
    vi.useFakeTimers();
    const { service, runs } = await started([run({ id: 1 })]);
    service.answer('listRuns', [run({ id: 2, status: 'queued' }), run({ id: 1 })]);
    service.emit('runStatus', { runId: 2, status: 'queued', previous: null, error: null, stopReason: null, kernelsUsed: null });
    // A burst of events costs one read: the reads are coalesced.
    service.emit('runStatus', { runId: 2, status: 'running', previous: 'queued', error: null, stopReason: null, kernelsUsed: 'fast' });
    await vi.advanceTimersByTimeAsync(200);
    expect(service.requestsOf('listRuns')).toHaveLength(2);
    expect(runs.list.map((r) => r.id)).toEqual([2, 1]);
  });

  test('batch events grow the live series in place; an epoch event adds its points and updates the summary', async () => {
    vi.useFakeTimers();
    const { service, runs } = await started();
    const series = runs.seriesFor(1)!;
    const { batchLoss } = series;
    for (const step of [0, 2, 4]) service.emit('runProgress', batch(step));
    expect(series.batchLoss).toBe(batchLoss);
    expect(batchLoss.map((p) => p.x)).toEqual([0, 2, 4]);
    expect(series.batchAccuracy.map((p) => p.y)).toEqual([0, 0.02, 0.04]);
    expect(series.smoothLoss).toHaveLength(3);
    expect(series.smoothLoss[0]!.y).toBe(2);
    // The exponential moving average: 0.9 × previous + 0.1 × new.
    expect(series.smoothLoss[1]!.y).toBeCloseTo(0.9 * 2 + 0.1 * 1.98, 12);
    await vi.advanceTimersByTimeAsync(LIVE_UPDATE_MS);
    expect([series.epoch, series.batch, series.batchesPerEpoch]).toEqual([1, 5, 100]);
    const version = series.version;

    service.emit('runProgress', epochEnd(5));
    expect(series.valLoss).toEqual([{ x: 5, y: 1.1 }]);
    expect(series.valAccuracy).toEqual([{ x: 5, y: 0.65 }]);
    expect(series.epochTrainLoss).toEqual([{ x: 5, y: 1.2 }]);
    await vi.advanceTimersByTimeAsync(LIVE_UPDATE_MS);
    expect(series.version).toBe(version + 1);
    expect(runs.list[0]).toMatchObject({ epochsDone: 1, lastValAccuracy: 0.65, lastTrainLoss: 1.2 });
  });

  test('a burst of progress events changes what is shown once per LIVE_UPDATE_MS, with the latest figures; a status change shows them at once', async () => {
    vi.useFakeTimers();
    const { service, runs } = await started();
    const series = runs.seriesFor(1)!;
    const [version, list] = [series.version, runs.list];
    for (let step = 0; step < 300; step++) {
      service.emit('runProgress', batch(step));
      if (step % 30 === 29) service.emit('runProgress', epochEnd(step, { epoch: (step + 1) / 30 }));
    }
    // every point is in the series, nothing reactive changed yet
    expect(series.batchLoss).toHaveLength(300);
    expect(series.epochTrainLoss).toHaveLength(10);
    expect([series.version, series.batch, runs.list]).toEqual([version, 0, list]);
    await vi.advanceTimersByTimeAsync(LIVE_UPDATE_MS);
    expect([series.version, series.batch, series.epoch]).toEqual([version + 1, 300, 10]);
    expect(runs.list[0]!.epochsDone).toBe(10);
    const shown = runs.list;
    await vi.advanceTimersByTimeAsync(10 * LIVE_UPDATE_MS);
    expect([series.version, runs.list]).toEqual([version + 1, shown]); // nothing new, nothing redrawn

    service.emit('runProgress', batch(300));
    service.emit('runProgress', epochEnd(300, { epoch: 11 }));
    service.emit('runStatus', { runId: 1, status: 'paused', previous: 'running', error: null, stopReason: null, kernelsUsed: 'fast' });
    expect([series.batch, runs.list[0]!.epochsDone, runs.list[0]!.status]).toEqual([301, 11, 'paused']);
  });

  test('a replayed batch event (a step already drawn) adds nothing', async () => {
    const { service, runs } = await started();
    const series = runs.seriesFor(1)!;
    service.emit('runProgress', batch(3));
    service.emit('runProgress', batch(3));
    service.emit('runProgress', batch(1));
    expect(series.batchLoss.map((p) => p.x)).toEqual([3]);
  });

  test('the stored history goes under the events that arrived while it loaded, without doubles', async () => {
    const { service, runs } = await started();
    const getRun = service.hold('getRun');
    const selecting = runs.select(1);
    await settle();
    expect(getRun.request).toEqual({ id: 1, batches: true });
    service.emit('runProgress', batch(5));
    service.emit('runProgress', batch(6));
    const stored = [0, 1, 2, 3, 4, 5].map((step) => ({ epoch: 1, batch: step + 1, step, loss: 2 - step / 100, accuracy: step / 100, learningRate: 0.01, wallTime: step }));
    getRun.resolve(detail({ id: 1, batches: stored }));
    await selecting;
    const series = runs.seriesFor(1)!;
    expect(series.batchLoss.map((p) => p.x)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(series.smoothLoss.map((p) => p.x)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The detail keeps the spec and snapshots; its batches live in the series only.
    expect(runs.detail?.id).toBe(1);
    expect(runs.detail?.batches).toEqual([]);
  });

  test('pause: a refusal shows the service\'s message; an accepted pause changes the run in the list', async () => {
    const { service, runs } = await started();
    service.answer('getRun', detail({ id: 1 }));
    await runs.select(1);
    service.refuse('pauseRun', { code: 'conflict', message: 'run 1 is completed; only a queued or running run can be paused' });
    await runs.control('pause', 1);
    expect(runs.actionError).toBe('run 1 is completed; only a queued or running run can be paused');
    expect(runs.busy).toBeNull();

    const pausing = service.hold('pauseRun');
    const control = runs.control('pause', 1);
    expect(runs.busy).toBe('pause');
    await settle();
    expect(pausing.request).toEqual({ id: 1 });
    pausing.resolve(run({ id: 1, status: 'paused', epochsDone: 2 }));
    await control;
    expect(runs.actionError).toBeNull();
    expect(runs.selected).toMatchObject({ status: 'paused', epochsDone: 2 });
    expect(runs.busy).toBeNull();
  });

  test('a run adopted from the builder is listed and selected before any event about it', async () => {
    const { service, runs } = await started([]);
    service.answer('getRun', detail({ id: 9, name: 'new' }));
    await runs.adopt(run({ id: 9, name: 'new', status: 'queued' }));
    expect(runs.list.map((r) => r.id)).toEqual([9]);
    expect(runs.selected?.name).toBe('new');
    service.emit('runProgress', batch(0, { runId: 9 }));
    expect(runs.seriesFor(9)!.batchLoss).toHaveLength(1);
  });

  test('resync reads the list and the shown run again', async () => {
    const { service, runs } = await started();
    service.answer('getRun', detail({ id: 1 }));
    await runs.select(1);
    service.answer('listRuns', [run({ id: 1, status: 'completed' })]);
    await runs.resync();
    expect(runs.selected?.status).toBe('completed');
    expect(service.requestsOf('getRun')).toHaveLength(2);
  });
});

describe('runs state at rest', () => {
  test('when the shown run stops, its stored history is read again: a batch whose event was missed is drawn', async () => {
    const { service, runs } = await started([]);
    // The first batch's event came before the run was listed (the page was still adopting it).
    service.emit('runProgress', batch(0, { runId: 4 }));
    service.answer('getRun', detail({ id: 4 }));
    await runs.adopt(run({ id: 4 }));
    service.emit('runProgress', batch(1, { runId: 4 }));
    expect(runs.seriesFor(4)!.batchLoss.map((p) => p.x)).toEqual([1]);
    const row = (step: number) => ({ epoch: 1, batch: step + 1, step, loss: 2, accuracy: 0.1, learningRate: 0.01, wallTime: step });
    service.answer('getRun', detail({ id: 4, status: 'stopped', batches: [row(0), row(1)] }));
    service.emit('runStatus', { runId: 4, status: 'running', previous: 'queued', error: null, stopReason: null, kernelsUsed: 'fast' });
    await settle();
    expect(service.requestsOf('getRun')).toHaveLength(1);
    service.emit('runStatus', { runId: 4, status: 'stopped', previous: 'running', error: null, stopReason: 'stopped', kernelsUsed: 'fast' });
    await settle();
    expect(service.requestsOf('getRun')).toHaveLength(2);
    expect(runs.seriesFor(4)!.batchLoss.map((p) => p.x)).toEqual([0, 1]);
  });

  test('libraryChanged: an evaluated or renamed run is patched in place (no reload); a deleted one leaves the list', async () => {
    const { service, runs } = await started([run({ id: 1 }), run({ id: 2, name: 'other' })]);
    const reads = service.requestsOf('listRuns').length;
    service.emit('libraryChanged', { kind: 'run', id: 2, change: 'updated', run: run({ id: 2, name: 'other', status: 'completed', testAccuracy: 0.87, tags: ['keep'] }) });
    expect(runs.list.map((r) => [r.id, r.testAccuracy, r.tags])).toEqual([[1, null, []], [2, 0.87, ['keep']]]);
    service.emit('libraryChanged', { kind: 'dataset', id: 2, change: 'deleted' });
    service.emit('libraryChanged', { kind: 'run', id: 1, change: 'deleted' });
    expect(runs.list.map((r) => r.id)).toEqual([2]);
    expect(service.requestsOf('listRuns')).toHaveLength(reads);
  });

  test('the table\'s query filters by status, words and tag and sorts by best accuracy, missing values last', async () => {
    const { runs } = await started([
      run({ id: 1, name: 'baseline', status: 'completed', bestValAccuracy: 0.8 }),
      run({ id: 2, name: 'wide', status: 'completed', bestValAccuracy: 0.9, notes: 'twice the units', tags: ['wide'] }),
      run({ id: 3, name: 'new', status: 'running', bestValAccuracy: null }),
    ]);
    expect(runs.shown.map((r) => r.id)).toEqual([3, 2, 1]); // newest first
    runs.query = { sort: 'bestAccuracy' };
    expect(runs.shown.map((r) => r.id)).toEqual([2, 1, 3]);
    runs.query = { sort: 'bestAccuracy', order: 'asc' };
    expect(runs.shown.map((r) => r.id)).toEqual([1, 2, 3]);
    runs.query = { status: 'completed', search: 'UNITS' };
    expect(runs.shown.map((r) => r.id)).toEqual([2]);
    runs.query = { tag: 'wide' };
    expect(runs.shown.map((r) => r.id)).toEqual([2]);
    expect(runs.list).toHaveLength(3);
  });

  test('during epoch 1 the series holds the training time and the last batch loss from the batch events', async () => {
    vi.useFakeTimers();
    const { service, runs } = await started();
    const series = runs.seriesFor(1)!;
    expect([series.wallTime, series.lastBatchLoss]).toEqual([null, null]);
    service.emit('runProgress', batch(3, { wallTime: 4.5, loss: 1.25 }));
    await vi.advanceTimersByTimeAsync(LIVE_UPDATE_MS);
    expect([series.epoch, series.wallTime, series.lastBatchLoss]).toEqual([1, 4.5, 1.25]);
  });

  test('a fork\'s series counts its epochs and batches per epoch past its parent\'s snapshot', async () => {
    const fork = run({ id: 5, epochOffset: 2, stepOffset: 24, hyperparameters: { ...run().hyperparameters, epochs: 3 } });
    const { service, runs } = await started([fork]);
    const series = runs.seriesFor(5)!;
    expect(series.epochs).toBe(5);
    series.seed(detail({ ...fork, epochs: [{ epoch: 3, step: 36, trainLoss: 1, trainAccuracy: 0.5, valLoss: null, valAccuracy: null, learningRate: 0.01, imagesPerSecond: 100, seconds: 1, wallTime: 1 }] }));
    expect([series.batchesPerEpoch, series.epochs]).toEqual([12, 5]);
    void service;
  });
  test('rename, tags and notes go to updateRun and the list shows the service\'s answer; a refusal stays beside the form', async () => {
    const { service, runs } = await started([run({ id: 1, name: 'old', tags: ['a'] }), run({ id: 2 })]);
    service.answer('updateRun', (r) => run({ id: 1, name: r.name ?? 'old', tags: r.tags ?? ['a'], notes: r.notes ?? '' }));
    expect(await runs.update(1, { tags: ['a', 'keeper'] })).toBe(true);
    expect(service.requestsOf('updateRun')).toEqual([{ id: 1, tags: ['a', 'keeper'] }]);
    expect(runs.list[0]).toMatchObject({ id: 1, tags: ['a', 'keeper'] });
    runs.query = { tag: 'keeper' };
    expect(runs.shown.map((r) => r.id)).toEqual([1]);
    service.refuse('updateRun', { code: 'bad_request', message: 'name: at most 200 characters' });
    expect(await runs.update(1, { name: 'x'.repeat(300) })).toBe(false);
    expect(runs.editError).toBe('name: at most 200 characters');
    expect(runs.list[0]!.name).toBe('old');
  });

  test('the table filters by dataset and sorts by parameters, largest first unless reversed', async () => {
    const { runs } = await started([
      run({ id: 1, datasetId: 1, totalParams: 500 }), run({ id: 2, datasetId: 2, datasetName: 'digits', totalParams: 9000 }), run({ id: 3, datasetId: 1, totalParams: 7000 }),
    ]);
    runs.query = { datasetId: 1, sort: 'params' };
    expect(runs.shown.map((r) => r.id)).toEqual([3, 1]);
    runs.query = { ...runs.query, order: 'asc' };
    expect(runs.shown.map((r) => r.id)).toEqual([1, 3]);
  });
});
