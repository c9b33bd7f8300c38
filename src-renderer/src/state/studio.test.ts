import { describe, expect, test } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import { dataset, run } from '../../test/fixtures.js';
import { Studio } from './studio.svelte.js';

describe('studio', () => {
  test('starts by reading the library and the runs; after the event stream was down it reads them again', async () => {
    const service = new FakeService();
    service.answer('listDatasets', [dataset()]);
    service.answer('listRuns', [run()]);
    service.answer('getThumbnails', []);
    const studio = new Studio(service.client);
    expect(studio.connection).toBe('connecting');
    await studio.start();
    expect(studio.datasets.list).toHaveLength(1);
    expect(studio.runs.list).toHaveLength(1);
    expect(service.requestsOf('getThumbnails')).toHaveLength(1);

    service.setConnection('open');
    await settle();
    expect(studio.connection).toBe('open');
    expect(service.requestsOf('listRuns')).toHaveLength(1);

    service.answer('listRuns', [run({ status: 'completed' })]);
    service.setConnection('closed');
    expect(studio.connection).toBe('closed');
    service.setConnection('open');
    await settle();
    expect(service.requestsOf('listRuns')).toHaveLength(2);
    expect(service.requestsOf('listDatasets')).toHaveLength(2);
    expect(studio.runs.list[0]!.status).toBe('completed');
  });
});
