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

/** A desktop shell the test plays: dropped files' paths by name, the save dialog's answer, the menu's events. */
function fakeShell(paths: Record<string, string> = {}) {
  const listeners = new Map<string, (payload: never) => void>();
  const saves: { runId: number; format: string }[] = [];
  const shell = {
    pathForFile: async (file: File) => paths[file.name] ?? '',
    chooseImportPaths: async () => ({ ok: true as const, value: { paths: ['/data/picked'] } }),
    saveExport: async (r: { runId: number; format: 'onnx' | 'json' | 'csv' }) => {
      saves.push(r);
      return { ok: true as const, value: { paths: ['/home/me/model.onnx'], format: r.format } };
    },
    revealPath: async () => ({ ok: true as const, value: { revealed: true as const } }),
    openDataFolder: async () => ({ ok: true as const, value: { path: '/data' } }),
    on: (event: string, listener: (payload: never) => void) => {
      listeners.set(event, listener);
      return () => void listeners.delete(event);
    },
  };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.(payload as never);
  return { shell: shell as unknown as import('../lib/shell.js').ShellApi, saves, emit };
}

describe('studio in the desktop app', () => {
  test('files dropped on the window are queued by their paths; one without a path is listed refused; the view moves to Datasets', async () => {
    const service = new FakeService();
    service.hold('importDataset');
    const { shell } = fakeShell({ 'fashion-mnist-sample': '/home/me/fashion-mnist-sample' });
    const views: string[] = [];
    const studio = new Studio(service.client, { shell, navigate: (v) => views.push(v) });
    await studio.drop([new File([], 'fashion-mnist-sample'), new File(['x'], 'snippet.txt')], []);
    await settle();
    expect(studio.imports.items.map((i) => [i.label, i.source, i.status])).toEqual([['snippet.txt', 'refused', 'failed'], ['fashion-mnist-sample', 'path', 'importing']]);
    expect(service.requestsOf('importDataset').map((r) => r.path)).toEqual(['/home/me/fashion-mnist-sample']);
    expect(views).toEqual(['datasets']);
  });

  test('File › Import\'s paths queue like a drop; File › Export exports the selected run through the save dialog, or says there is none', async () => {
    const service = new FakeService();
    service.hold('importDataset');
    const { shell, saves, emit } = fakeShell();
    const views: string[] = [];
    const studio = new Studio(service.client, { shell, navigate: (v) => views.push(v) });
    emit('importPaths', { paths: ['/data/cats/', 'C:\\data\\dogs'] });
    expect(studio.imports.items.map((i) => i.label)).toEqual(['cats', 'dogs']);

    emit('exportRequested', { format: 'onnx' });
    expect(studio.notice).toContain('Nothing to export yet');
    expect(saves).toEqual([]);
    studio.runs.selectedId = 7;
    emit('exportRequested', { format: 'onnx' });
    await settle();
    expect(studio.notice).toBeNull();
    expect(saves).toEqual([{ runId: 7, format: 'onnx' }]);
    expect(studio.exports.saved).toEqual({ runId: 7, format: 'onnx', paths: ['/home/me/model.onnx'] });
    expect(views).toEqual(['datasets', 'train']);
    // nothing was downloaded: the shell wrote the file
    expect(service.requestsOf('exportRun')).toEqual([]);

    emit('quitting', { runs: 2 });
    expect(studio.quitting).toEqual({ runs: 2 });
  });
});

describe('studio in a browser', () => {
  test('the server is gone once the stream that was open is not; never before it first opened', () => {
    const service = new FakeService();
    const studio = new Studio(service.client);
    service.setConnection('closed');
    expect(studio.serverGone).toBe(false); // not yet reached: the no-token card or the sidebar say so
    service.setConnection('open');
    expect(studio.serverGone).toBe(false);
    service.setConnection('closed');
    expect(studio.serverGone).toBe(true);
    service.setConnection('connecting');
    expect(studio.serverGone).toBe(true);
    service.setConnection('open');
    expect(studio.serverGone).toBe(false);
  });

  test('an export is downloaded as the service\'s files; no shell, no save dialog', async () => {
    const service = new FakeService();
    const files = [{ name: 'run-3.onnx', bytes: 2, base64: 'AAA=' }];
    service.answer('exportRun', { files });
    const downloaded: unknown[] = [];
    const studio = new Studio(service.client, { download: (f) => void downloaded.push(f) });
    await studio.exports.export(3, 'onnx');
    expect(service.requestsOf('exportRun')).toEqual([{ runId: 3, format: 'onnx' }]);
    expect(downloaded).toEqual([files]);
    expect(studio.exports.saved).toBeNull();
  });
});
