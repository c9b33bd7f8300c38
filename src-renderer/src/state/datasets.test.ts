import { describe, expect, test } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import { dataset, thumbnail } from '../../test/fixtures.js';
import { DatasetsState } from './datasets.svelte.js';

function library() {
  const service = new FakeService();
  service.answer('listDatasets', [dataset({ id: 1 })]);
  return { service, datasets: new DatasetsState(service.client) };
}

describe('datasets state', () => {
  test('an import in flight follows its own progress events and no other import\'s', async () => {
    const { service, datasets } = library();
    const importing = service.hold('importDataset');
    const done = datasets.importPath('  /data/fashion ', '');
    await settle();
    const { importId, path } = importing.request;
    if (!importId) throw new Error('the import was sent without its id');
    expect(path).toBe('/data/fashion');
    expect(datasets.importing).toMatchObject({ importId, phase: 'starting', done: 0, total: 0 });

    service.emit('importProgress', { importId, phase: 'decoding', done: 1200, total: 12000, message: 'a/1200.png' });
    expect(datasets.importing).toMatchObject({ phase: 'decoding', done: 1200, total: 12000, message: 'a/1200.png' });
    service.emit('importProgress', { importId: 'someone-else', phase: 'writing', done: 1, total: 1 });
    expect(datasets.importing).toMatchObject({ phase: 'decoding', done: 1200 });

    service.answer('listDatasets', [dataset({ id: 1 }), dataset({ id: 2, name: 'fashion', trainCount: 60000, testCount: 10000 })]);
    service.answer('getThumbnails', []);
    importing.resolve({ dataset: dataset({ id: 2, name: 'fashion', trainCount: 60000, testCount: 10000 }), alreadyImported: false, recognizedAs: null });
    await done;
    expect(datasets.importing).toBeNull();
    expect(datasets.importNotice).toBe('imported “fashion”: 60,000 training and 10,000 test images');
    expect(datasets.list.map((d) => d.id)).toEqual([1, 2]);
    expect(datasets.selectedId).toBe(2);
  });

  test('Cancel sends the import\'s id; the cancelled import says so and leaves nothing in flight', async () => {
    const { service, datasets } = library();
    const importing = service.hold('importDataset');
    const done = datasets.importPath('/data/slow', 'slow');
    await settle();
    expect(importing.request).toMatchObject({ path: '/data/slow', name: 'slow' });
    service.answer('cancelImport', { cancelled: true });
    await datasets.cancelImport();
    expect(service.requestsOf('cancelImport')).toEqual([{ importId: importing.request.importId }]);
    expect(datasets.importing?.cancelling).toBe(true);

    importing.refuse({ code: 'cancelled', message: '/data/slow: import cancelled' });
    await done;
    expect(datasets.importing).toBeNull();
    expect(datasets.importError).toBe('import cancelled');
    expect(service.requestsOf('listDatasets')).toEqual([]);
  });

  test('a failed import shows the service\'s one line; an empty path is refused without a call', async () => {
    const { service, datasets } = library();
    service.refuse('importDataset', { code: 'import_failed', message: '/no/such/folder: not found', detail: { file: '/no/such/folder' } });
    await datasets.importPath('/no/such/folder', '');
    expect(datasets.importError).toBe('/no/such/folder: not found');
    await datasets.importPath('   ', '');
    expect(datasets.importError).toBe('type the path of a folder, IDX pair, CSV file or archive on this computer');
    expect(service.requestsOf('importDataset')).toHaveLength(1);
  });

  test('the selected dataset\'s thumbnails: at most five per class, grouped by label', async () => {
    const { service, datasets } = library();
    service.answer('getThumbnails', (r) => r.indices.map((i) => thumbnail(r.datasetId, r.split, i)));
    await datasets.refresh();
    expect(datasets.selectedId).toBe(1);
    await datasets.loadThumbnails();
    const [request] = service.requestsOf('getThumbnails');
    expect(request).toMatchObject({ datasetId: 1, split: 'train', scale: 2 });
    expect(request!.indices).toHaveLength(300);
    expect(datasets.thumbnails).toHaveLength(10);
    expect(datasets.thumbnails.map((g) => g.length)).toEqual(Array(10).fill(5));
    expect(datasets.thumbnails[3]!.map((t) => t.index)).toEqual([3, 13, 23, 33, 43]);
  });

  test('renaming sends only what changed; the list shows the new names and the thumbnails are fetched again', async () => {
    const { service, datasets } = library();
    service.answer('getThumbnails', []);
    await datasets.refresh();
    const names = dataset({ id: 1 }).classNames.map((n, i) => (i === 9 ? 'Boot' : n));
    service.answer('updateDataset', (r) => dataset({ id: 1, classNames: r.classNames ?? dataset().classNames, name: r.name ?? 'Fashion-MNIST sample' }));
    expect(await datasets.saveNames(1, ' Fashion-MNIST sample ', names.map((n) => ` ${n}`))).toBe(true);
    expect(service.requestsOf('updateDataset')).toEqual([{ id: 1, classNames: names }]);
    expect(datasets.list[0]!.classNames[9]).toBe('Boot');
    expect(service.requestsOf('getThumbnails')).toHaveLength(1);
    // nothing changed: no call
    expect(await datasets.saveNames(1, 'Fashion-MNIST sample', names)).toBe(true);
    expect(service.requestsOf('updateDataset')).toHaveLength(1);
  });

  test('a refused rename shows the service’s words and keeps the list as it was', async () => {
    const { service, datasets } = library();
    await datasets.refresh();
    service.refuse('updateDataset', { code: 'conflict', message: 'another dataset (2) is named "fashion"', detail: { field: 'name' } });
    expect(await datasets.saveNames(1, 'fashion', dataset().classNames)).toBe(false);
    expect(datasets.editError).toBe('another dataset (2) is named "fashion"');
    expect(datasets.list[0]!.name).toBe('Fashion-MNIST sample');
  });

  test('Re-import asks for the dataset by id; the dataset is usable again in the list, or the refusal is shown', async () => {
    const { service, datasets } = library();
    service.answer('listDatasets', [dataset({ id: 1, cacheProblem: 'the decoded images of dataset "Fashion-MNIST sample" (/x.cnnds) are missing.' })]);
    service.answer('getThumbnails', []);
    await datasets.refresh();
    service.answer('reimportDataset', dataset({ id: 1, cacheProblem: null }));
    await datasets.reimport(1);
    expect(service.requestsOf('reimportDataset')).toEqual([{ id: 1 }]);
    expect(datasets.list[0]!.cacheProblem).toBeNull();
    expect(datasets.reimporting).toBe(false);
    service.refuse('reimportDataset', { code: 'import_failed', message: '/samples/fashion: not found' });
    await datasets.reimport(1);
    expect(datasets.reimportError).toBe('/samples/fashion: not found');
  });
});
