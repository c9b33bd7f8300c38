import { describe, expect, test } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import { dataset } from '../../test/fixtures.js';
import type { Upload, Uploader } from '../lib/upload.js';
import { DatasetsState } from './datasets.svelte.js';
import { ImportQueue } from './imports.svelte.js';

function queue(uploader: Uploader | null = null) {
  const service = new FakeService();
  service.answer('listDatasets', [dataset({ id: 1 })]);
  service.answer('getThumbnails', []);
  const datasets = new DatasetsState(service.client, uploader);
  return { service, datasets, imports: new ImportQueue(datasets) };
}

const imported = (id: number, name: string) => ({ dataset: dataset({ id, name }), alreadyImported: false, recognizedAs: null });

/** Lets the queue's chain of awaits (import, re-read the library, thumbnails) run until `done` holds; microtasks only. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await Promise.resolve();
  if (!done()) throw new Error('the state never got there');
}

describe('import queue', () => {
  test('several dropped at once import one after the other, each with its own status, progress and result', async () => {
    const { service, datasets, imports } = queue();
    const held = service.hold('importDataset');
    imports.add([{ kind: 'path', label: 'cats', path: '/d/cats' }, { kind: 'path', label: 'dogs', path: '/d/dogs' }]);
    await settle();
    expect(imports.items.map((i) => [i.label, i.status])).toEqual([['cats', 'importing'], ['dogs', 'queued']]);
    expect(held.pending).toBe(1);
    expect(held.request.path).toBe('/d/cats');
    service.emit('importProgress', { importId: held.request.importId!, phase: 'decoding', done: 40, total: 80 });
    expect(datasets.importing).toMatchObject({ path: '/d/cats', source: 'path', done: 40, total: 80 });

    service.answer('listDatasets', [dataset({ id: 1 }), dataset({ id: 2, name: 'cats' })]);
    held.resolve(imported(2, 'cats'));
    await until(() => held.pending === 1);
    expect(imports.items.map((i) => [i.label, i.status])).toEqual([['cats', 'done'], ['dogs', 'importing']]);
    // a finished item keeps a full bar and its result
    expect(imports.items[0]).toMatchObject({ done: 80, total: 80, message: 'imported “cats”: 5,000 training and 1,000 test images' });
    expect(held.request.path).toBe('/d/dogs');
    held.refuse({ code: 'import_failed', message: '/d/dogs: all 12 training images are class \'dog\'' });
    await until(() => imports.items[1]!.status !== 'importing');
    expect(imports.items.map((i) => [i.label, i.status, i.message])).toEqual([
      ['cats', 'done', 'imported “cats”: 5,000 training and 1,000 test images'],
      ['dogs', 'failed', '/d/dogs: all 12 training images are class \'dog\''],
    ]);
    expect(service.requestsOf('importDataset').map((r) => r.path)).toEqual(['/d/cats', '/d/dogs']);
    expect(datasets.selectedId).toBe(2);
  });

  test('items added while one imports wait their turn; a waiting one can be taken out; refusals are listed failed at once', async () => {
    const { service, imports } = queue();
    const held = service.hold('importDataset');
    imports.add([{ kind: 'path', label: 'a', path: '/a' }]);
    await settle();
    imports.add([{ kind: 'path', label: 'b', path: '/b' }, { kind: 'path', label: 'c', path: '/c' }], [{ label: 'snippet', message: 'snippet: not a file or folder on this computer' }]);
    expect(imports.items.map((i) => [i.label, i.status])).toEqual([['a', 'importing'], ['snippet', 'failed'], ['b', 'queued'], ['c', 'queued']]);
    imports.remove(imports.items.find((i) => i.label === 'b')!.id);
    imports.remove(imports.items.find((i) => i.label === 'a')!.id); // importing: stays
    held.resolve(imported(2, 'a'));
    await until(() => held.pending === 1);
    expect(held.request.path).toBe('/c');
    held.resolve(imported(3, 'c'));
    await until(() => imports.items.every((i) => i.status !== 'importing'));
    expect(imports.items.map((i) => [i.label, i.status])).toEqual([['a', 'done'], ['snippet', 'failed'], ['c', 'done']]);
    imports.clearFinished();
    expect(imports.items).toEqual([]);
  });

  test('a browser upload: the bytes\' progress first, then the server\'s import under the same id; Cancel while sending aborts the upload', async () => {
    const calls: { upload: Upload; importId: string; signal: AbortSignal; onProgress(sent: number, total: number): void; finish(r: unknown): void }[] = [];
    const uploader: Uploader = (upload, o) => new Promise((finish) => calls.push({ upload, ...o, finish: finish as (r: unknown) => void }));
    const { service, datasets, imports } = queue(uploader);
    const blob = new Blob([new Uint8Array(1000)]);
    imports.add([{ kind: 'upload', label: 'fashion', upload: { label: 'fashion', fileName: 'fashion.tar', blob } }, { kind: 'upload', label: 'digits.csv', upload: { label: 'digits.csv', fileName: 'digits.csv', blob } }]);
    await settle();
    const first = calls[0]!;
    expect(datasets.importing).toMatchObject({ source: 'upload', path: 'fashion', phase: 'uploading' });
    first.onProgress(400, 1000);
    expect(datasets.importing).toMatchObject({ phase: 'uploading', done: 400, total: 1000 });
    service.emit('importProgress', { importId: first.importId, phase: 'decoding', done: 10, total: 60 });
    first.onProgress(1000, 1000); // late upload progress does not overwrite the importer's
    expect(datasets.importing).toMatchObject({ phase: 'decoding', done: 10, total: 60 });
    service.answer('listDatasets', [dataset({ id: 1 }), dataset({ id: 2, name: 'fashion' })]);
    first.finish({ ok: true, value: imported(2, 'fashion') });
    await until(() => calls.length === 2);
    expect(imports.items[0]!.status).toBe('done');

    const second = calls[1]!;
    service.answer('cancelImport', { cancelled: false });
    await datasets.cancelImport();
    expect(second.signal.aborted).toBe(true);
    expect(service.requestsOf('cancelImport')).toEqual([{ importId: second.importId }]);
    second.finish({ ok: false, error: { code: 'cancelled', message: 'upload cancelled' } });
    await until(() => imports.items[1]!.status !== 'importing');
    expect(imports.items.map((i) => i.status)).toEqual(['done', 'cancelled']);
  });

  test('a window without an uploader (the desktop app) refuses an upload instead of losing it', async () => {
    const { imports } = queue(null);
    imports.add([{ kind: 'upload', label: 'x.zip', upload: { label: 'x.zip', fileName: 'x.zip', blob: new Blob([]) } }]);
    await until(() => imports.items[0]!.status !== 'queued' && imports.items[0]!.status !== 'importing');
    expect(imports.items[0]).toMatchObject({ status: 'failed', message: 'x.zip: this window cannot upload; import it by its path' });
  });
});
