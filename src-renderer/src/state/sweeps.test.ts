import { afterEach, describe, expect, test, vi } from 'vitest';
import type { SweepDetail } from '../../../src-main/contract/index.js';
import { FakeService } from '../../test/fake-client.js';
import { detail, run } from '../../test/fixtures.js';
import { progressOf, SweepsState } from './sweeps.svelte.js';

const sweep = (runs: SweepDetail['runs'], over: Partial<SweepDetail> = {}): SweepDetail => ({
  id: 4, name: 'sweep of #1', datasetId: 1, baseRunId: 1, kind: 'grid', space: { learningRate: [0.01, 0.1] }, maxRuns: 12, seed: 0, parallel: 1,
  createdAt: '2025-01-01T00:00:00.000Z', runs, bestRunId: null, ...over,
});

afterEach(() => vi.useRealTimers());

describe('sweeps state', () => {
  test('the form opened from a run queues exactly its plan, then shows the new sweep', async () => {
    const service = new FakeService();
    service.answer('getRun', detail({ id: 1 }));
    const sweeps = new SweepsState(service.client);
    await sweeps.open(run({ id: 1, status: 'completed' }));
    expect(sweeps.plan).toMatchObject({ runs: 3, problem: null });
    sweeps.form!.fields.learningRate.values = '0.01, 0.1';
    expect(sweeps.plan?.runs).toBe(2);
    const made = sweep([{ run: run({ id: 10, status: 'queued', sweepId: 4 }), values: { learningRate: 0.01 } }, { run: run({ id: 11, status: 'queued', sweepId: 4 }), values: { learningRate: 0.1 } }]);
    service.answer('startSweep', made);
    service.answer('listSweeps', [made]);
    await sweeps.start();
    expect(service.requestsOf('startSweep')).toEqual([{ runId: 1, kind: 'grid', space: { learningRate: [0.01, 0.1] }, maxRuns: 12, parallel: 1 }]);
    expect(sweeps.form).toBeNull();
    expect(sweeps.shown?.id).toBe(4);
    expect(sweeps.list).toHaveLength(1);
  });

  test('a plan over the cap is not sent', async () => {
    const service = new FakeService();
    service.answer('getRun', detail({ id: 1 }));
    const sweeps = new SweepsState(service.client);
    await sweeps.open(run({ id: 1 }));
    sweeps.form!.maxRuns = 2;
    expect(await sweeps.start()).toBeNull();
    expect(sweeps.formError).toMatch(/3 combinations, more than the cap of 2/);
    expect(service.requestsOf('startSweep')).toEqual([]);
  });

  test('an epoch or a status of one of its runs reads the shown sweep again (once per burst); other runs\' events do not', async () => {
    vi.useFakeTimers();
    const service = new FakeService();
    const sweeps = new SweepsState(service.client);
    let reads = 0;
    service.answer('getSweep', () => {
      reads++;
      return sweep([{ run: run({ id: 10, status: reads > 1 ? 'completed' : 'running', bestValAccuracy: 0.8 }), values: { learningRate: 0.01 } }, { run: run({ id: 11, status: 'queued' }), values: { learningRate: 0.1 } }]);
    });
    await sweeps.show(4);
    expect(progressOf(sweeps.shown!)).toMatchObject({ total: 2, done: 0, running: { id: 10 } });
    service.emit('runStatus', { runId: 99, status: 'completed', previous: 'running', error: null, stopReason: null, kernelsUsed: null });
    await vi.advanceTimersByTimeAsync(500);
    expect(reads).toBe(1);
    service.emit('runStatus', { runId: 10, status: 'completed', previous: 'running', error: null, stopReason: null, kernelsUsed: null });
    service.emit('runStatus', { runId: 11, status: 'running', previous: 'queued', error: null, stopReason: null, kernelsUsed: null });
    await vi.advanceTimersByTimeAsync(500);
    expect(reads).toBe(2);
    expect(progressOf(sweeps.shown!)).toMatchObject({ total: 2, done: 1, running: null });
  });
});
