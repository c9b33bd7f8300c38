import { describe, expect, test } from 'vitest';
import { FakeService } from '../../test/fake-client.js';
import { detail, run } from '../../test/fixtures.js';
import { DEFAULT_HYPERPARAMETERS } from '../../../src-main/contract/index.js';
import { setValueAt } from '../lib/hyperparameter-form.js';
import { ExperimentsState } from './experiments.svelte.js';

const snapshot = (id: number, epoch: number) => ({ id, runId: 1, epoch, batch: 0, step: epoch * 100, kind: 'epoch' as const, isBest: false, bytes: 1000, createdAt: '2025-01-01T00:00:00.000Z' });
const parentHyperparameters = { ...structuredClone(DEFAULT_HYPERPARAMETERS), threads: 4, progressEvery: 3, epochs: 2 };

function experiments() {
  const service = new FakeService();
  service.answer('getRun', detail({ id: 1, status: 'completed', hyperparameters: parentHyperparameters, snapshots: [snapshot(5, 1), snapshot(6, 2)] }));
  return { service, state: new ExperimentsState(service.client) };
}

describe('experiments state', () => {
  test('a fork starts from the parent\'s hyperparameters and latest snapshot, and sends them with the edits', async () => {
    const { service, state } = experiments();
    await state.openFork(1);
    expect(state.fork).toEqual({ name: '', snapshotId: 6, hyperparameters: parentHyperparameters });
    setValueAt(state.fork!.hyperparameters, 'optimizer.learningRate', 0.03);
    state.fork!.snapshotId = 5;
    service.answer('forkRun', run({ id: 2, parentRunId: 1 }));
    expect(await state.submitFork()).toMatchObject({ id: 2 });
    const [request] = service.requestsOf('forkRun');
    // Everything else is the parent's: its 4 threads stay 4 (no fallback of 1).
    expect(request).toEqual({ runId: 1, snapshotId: 5, hyperparameters: { ...parentHyperparameters, optimizer: { ...parentHyperparameters.optimizer, learningRate: 0.03 } } });
    expect(state.fork).toBeNull();
  });

  test('a refused fork keeps the form open with the message and the field it names', async () => {
    const { service, state } = experiments();
    await state.openFork(1);
    service.refuse('forkRun', { code: 'invalid_hyperparameters', message: 'augmentation shift must be an integer from 0 to 14 pixels for 28×28 images, got 15', detail: { field: 'augment.maxShift' } });
    state.fork!.hyperparameters.augment.maxShift = 15;
    expect(await state.submitFork()).toBeNull();
    expect(state.forkError).toMatch(/^augmentation shift must be/);
    expect(state.forkField).toBe('augment.maxShift');
    expect(state.fork).not.toBeNull();

    state.fork!.hyperparameters.epochs = 0;
    await state.submitFork();
    expect(state.forkError).toBe('epochs must be an integer from 1 to 100000, got 0');
    expect(state.forkField).toBe('epochs');
    expect(service.requestsOf('forkRun')).toHaveLength(1);
  });

  test('compare asks for the picked runs, oldest first', async () => {
    const { service, state } = experiments();
    state.toggle(7);
    state.toggle(5);
    state.toggle(3);
    state.toggle(7);
    expect(state.picked).toEqual([5, 3]);
    service.answer('compareRuns', (r) => ({
      runs: r.ids.map((id) => ({ id, name: `#${id}`, status: 'completed' as const, specHash: 'x', datasetId: 1 })), epochs: [1], series: {},
      hyperparameterDiffs: [], architectureDiffs: [], sameArchitecture: true, perClass: [], testAccuracy: r.ids.map(() => null),
    }));
    await state.compare();
    expect(service.requestsOf('compareRuns')).toEqual([{ ids: [3, 5] }]);
    expect(state.comparison?.runs.map((r) => r.id)).toEqual([3, 5]);
  });
});
