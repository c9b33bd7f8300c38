import { describe, expect, test, vi } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import type { LayerHealth, RunHealthResponse } from '../../../src-main/contract/index.js';
import { GradientCheckState } from './gradient-check.svelte.js';
import { HealthState } from './health.svelte.js';
import { LIVE_UPDATE_MS } from '../lib/cadence.js';

const layers = (step: number): LayerHealth[] => [
  { index: 0, label: 'conv2d #1', gradientNorm: step, updateRatio: 1e-3, deadFraction: 0.5, activationMean: 0.2, activationStd: 0.1, nonFinite: 0 },
  { index: 1, label: 'flatten #2', gradientNorm: null, updateRatio: null, deadFraction: null, activationMean: 0.2, activationStd: 0.1, nonFinite: 0 },
];
const report = (runId: number, steps: number[]): RunHealthResponse => ({
  runId, every: 2, failure: null, findings: [], records: steps.map((step) => ({ runId, step, epoch: 1, batch: step, layers: layers(step) })),
});

describe('training health state', () => {
  test('shows the stored records, then extends them with the run\'s runHealth events (the charts told once per LIVE_UPDATE_MS); other runs\' are ignored', async () => {
    vi.useFakeTimers();
    const service = new FakeService();
    service.answer('runHealth', (r) => report(r.runId, [2, 4]));
    const health = new HealthState(service.client);
    await health.show(7);
    expect(health.layers.map((l) => [l.label, l.points.gradientNorm.map((p) => p.x)])).toEqual([['conv2d #1', [2, 4]], ['flatten #2', []]]);
    const version = health.version;
    service.emit('runHealth', { runId: 7, step: 6, epoch: 1, batch: 6, batchesPerEpoch: 10, layers: layers(6) });
    service.emit('runHealth', { runId: 8, step: 8, epoch: 1, batch: 8, batchesPerEpoch: 10, layers: layers(8) });
    service.emit('runHealth', { runId: 7, step: 6, epoch: 1, batch: 6, batchesPerEpoch: 10, layers: layers(6) }); // a repeat adds nothing
    expect(health.layers[0]!.points.gradientNorm).toEqual([{ x: 2, y: 2 }, { x: 4, y: 4 }, { x: 6, y: 6 }]);
    expect(health.layers[0]!.points.deadFraction).toHaveLength(3);
    expect(health.version).toBe(version);
    await vi.advanceTimersByTimeAsync(LIVE_UPDATE_MS);
    expect(health.version).toBe(version + 1);
    vi.useRealTimers();
  });

  test('a status change or an epoch end of the run asks for its findings again', async () => {
    const service = new FakeService();
    service.answer('runHealth', (r) => report(r.runId, [2]));
    const health = new HealthState(service.client);
    await health.show(7);
    service.emit('runStatus', { runId: 7, status: 'completed', previous: 'running', error: null, stopReason: 'completed', kernelsUsed: null });
    service.emit('runStatus', { runId: 9, status: 'completed', previous: 'running', error: null, stopReason: 'completed', kernelsUsed: null });
    await settle();
    expect(service.requestsOf('runHealth')).toEqual([{ runId: 7 }, { runId: 7 }]);
  });

  test('epochs ending many times a second while it trains ask again once per few seconds, not once each', async () => {
    vi.useFakeTimers();
    try {
      const service = new FakeService();
      service.answer('runHealth', (r) => report(r.runId, [2]));
      const health = new HealthState(service.client);
      await health.show(7);
      for (let epoch = 1; epoch <= 50; epoch++) {
        service.emit('runProgress', { kind: 'epoch', runId: 7, epoch, step: 10 * epoch, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, learningRate: 0.01, seconds: 0.1, imagesPerSecond: 1000, wallTime: epoch } as never);
        service.emit('runHealth', { runId: 7, step: 10 * epoch, epoch, batch: 10, batchesPerEpoch: 10, layers: layers(10 * epoch) });
        await settle();
      }
      expect(service.requestsOf('runHealth')).toHaveLength(1); // the show, nothing more yet
      await vi.advanceTimersByTimeAsync(3000);
      await settle();
      expect(service.requestsOf('runHealth')).toHaveLength(2); // one for all 50 epochs
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('gradient check state', () => {
  test('its progress comes from the events of its own inspection id; Cancel cancels that id and says so', async () => {
    const service = new FakeService();
    const held = service.hold('gradientCheck');
    service.answer('cancelInspection', { cancelled: true });
    const check = new GradientCheckState(service.client);
    const running = check.run({ runId: 3 });
    await settle();
    const id = held.request.inspectionId!;
    expect(id).toMatch(/^gradient-check-/);
    expect(check.busy).toBe(true);
    service.emit('inspectionProgress', { inspectionId: 'someone-else', runId: 3, kind: 'gradientCheck', done: 4, total: 5 });
    service.emit('inspectionProgress', { inspectionId: id, runId: 3, kind: 'gradientCheck', done: 2, total: 5 });
    expect(check.progress).toEqual({ done: 2, total: 5 });
    await check.cancel();
    expect(service.requestsOf('cancelInspection')).toEqual([{ inspectionId: id }]);
    held.refuse({ code: 'cancelled', message: 'gradientCheck of run 3 cancelled' });
    await running;
    expect([check.busy, check.error, check.result]).toEqual([false, 'The gradient check was cancelled.', null]);
  });
});
