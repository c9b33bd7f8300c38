import { describe, expect, test } from 'vitest';
import { FakeService } from '../../test/fake-client.js';
import { dataset, detail, run } from '../../test/fixtures.js';
import { DatasetsState } from './datasets.svelte.js';
import { Deletions } from './deletions.svelte.js';
import { RunsState } from './runs.svelte.js';

async function library() {
  const service = new FakeService();
  service.answer('listRuns', [run({ id: 1, name: 'parent', status: 'completed' }), run({ id: 2, name: 'its fork', parentRunId: 1, status: 'completed' }), run({ id: 3, name: 'other data', datasetId: 2 })]);
  service.answer('listDatasets', [dataset({ id: 1 }), dataset({ id: 2, name: 'digits' })]);
  const runs = new RunsState(service.client);
  const datasets = new DatasetsState(service.client);
  await Promise.all([runs.refresh(), datasets.refresh()]);
  return { service, runs, datasets, deletions: new Deletions(service.client, runs, datasets) };
}

describe('deletions', () => {
  test('deleting a run asks first, naming its forks; confirmed, the service is told so and the run leaves the list and the Train view', async () => {
    const { service, runs, deletions } = await library();
    service.answer('getRun', detail({ id: 1, name: 'parent', children: [2] }));
    await runs.select(1);
    await deletions.ask('run', 1);
    expect(service.requestsOf('deleteRun')).toEqual([]);
    expect(deletions.asking).toEqual({ kind: 'run', id: 1, name: 'parent', affected: [{ id: 2, name: 'its fork' }] });
    service.answer('deleteRun', { deleted: true });
    expect(await deletions.confirm()).toBe(true);
    expect(service.requestsOf('deleteRun')).toEqual([{ id: 1, confirmed: true }]);
    expect(runs.list.map((r) => r.id)).toEqual([2, 3]);
    expect(runs.selectedId).toBeNull();
    expect(deletions.asking).toBeNull();
  });

  test('a run without forks is deleted without the confirmation flag: the service still refuses if a fork appeared meanwhile, and the question comes back with it', async () => {
    const { service, runs, deletions } = await library();
    service.answer('getRun', detail({ id: 3, name: 'other data', children: [] }));
    await deletions.ask('run', 3);
    expect(deletions.asking?.affected).toEqual([]);
    service.refuse('deleteRun', { code: 'in_use', message: 'run 3 has 1 fork (#9 "new")', detail: { usedBy: [{ id: 9, name: 'new' }] } });
    expect(await deletions.confirm()).toBe(false);
    expect(service.requestsOf('deleteRun')).toEqual([{ id: 3, confirmed: false }]);
    expect(deletions.asking).toMatchObject({ id: 3, affected: [{ id: 9, name: 'new' }] });
    expect(deletions.error).toMatch(/1 fork/);
    expect(runs.list).toHaveLength(3);
  });

  test('deleting a dataset names the runs that use it; confirmed, it goes with them and the library is read again', async () => {
    const { service, runs, datasets, deletions } = await library();
    service.answer('getDataset', dataset({ id: 2, name: 'digits' }));
    service.answer('listRuns', (r) => (r.datasetId === 2 ? [run({ id: 3, name: 'other data', datasetId: 2 })] : []));
    await deletions.ask('dataset', 2);
    expect(deletions.asking).toEqual({ kind: 'dataset', id: 2, name: 'digits', affected: [{ id: 3, name: 'other data' }] });
    service.answer('deleteDataset', { deleted: true, runsDeleted: [3] });
    service.answer('listDatasets', [dataset({ id: 1 })]);
    service.answer('getThumbnails', []);
    expect(await deletions.confirm()).toBe(true);
    expect(service.requestsOf('deleteDataset')).toEqual([{ id: 2, withRuns: true }]);
    expect(runs.list.map((r) => r.id)).toEqual([1, 2]);
    expect(datasets.list.map((d) => d.id)).toEqual([1]);
  });

  test('cancel forgets the question and deletes nothing', async () => {
    const { service, deletions } = await library();
    service.answer('getRun', detail({ id: 1, children: [] }));
    await deletions.ask('run', 1);
    deletions.cancel();
    expect(deletions.asking).toBeNull();
    expect(await deletions.confirm()).toBe(false);
    expect(service.requestsOf('deleteRun')).toEqual([]);
  });
});
