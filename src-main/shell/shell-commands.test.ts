/**
 * The shell contract's handlers with the stand-in's dialogs and shell and the real service: the
 * export is written by the main process where the save dialog says, nothing when it is cancelled;
 * only what was written can be revealed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import { SAMPLE_DATASET_NAME, type Service } from '../service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from '../service/testing.js';
import { exportTarget, shellCommands } from './shell-commands.js';

const dir = tempDir('cnn-studio-shell-');
const saves = join(dir.path, 'saves');
let service: Service;
let runId: number;
let unsnapshottedRunId: number;

beforeAll(async () => {
  mkdirSync(saves);
  service = await openService(join(dir.path, 'library'));
  const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
  runId = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } }).id;
  // one training worker: the second run waits in the queue, and stopped there it has no snapshot
  unsnapshottedRunId = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } }).id;
  await service.call('stopRun', { id: unsnapshottedRunId });
  await service.runs.waitFor(runId);
});
afterAll(async () => {
  await service?.close();
  dir.remove();
});

function commands() {
  const e = createElectron({ home: dir.path });
  const win = new e.BrowserWindow({});
  const handlers = shellCommands({ dialog: e.dialog, shell: e.shell, window: () => win as never, service, dataDir: join(dir.path, 'library'), defaultSaveDir: saves });
  return { e, handlers };
}

describe('saveExport', () => {
  it('writes the ONNX file where the save dialog says (the format\'s extension added), the same bytes exportRun gives', async () => {
    const { e, handlers } = commands();
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'my model') });
    const r = await handlers.saveExport({ runId, format: 'onnx' });
    expect(r).toEqual({ ok: true, value: { paths: [join(saves, 'my model.onnx')], format: 'onnx', bytes: statSync(join(saves, 'my model.onnx')).size } });
    const expected = await service.call('exportRun', { runId, format: 'onnx', fileName: 'my model.onnx' });
    expect(expected.ok && readFileSync(join(saves, 'my model.onnx')).equals(Buffer.from(expected.value.files[0]!.base64, 'base64'))).toBe(true);
    // the dialog: parented, the run's default name in the user's folder, ONNX only
    expect(e.standIn.dialogs[0]!.options).toMatchObject({ defaultPath: join(saves, `run-${runId}.onnx`), filters: [{ extensions: ['onnx'] }] });
  });

  it('a model JSON goes with its weights beside it, under the name the JSON gives them; the next dialog opens in that folder', async () => {
    const { e, handlers } = commands();
    const folder = join(saves, 'json');
    mkdirSync(folder);
    e.standIn.answer('save', { canceled: false, filePath: join(folder, 'net.json') });
    e.standIn.answer('save', { canceled: true, filePath: '' });
    const r = await handlers.saveExport({ runId, format: 'json' });
    expect(r).toEqual({ ok: true, value: { paths: [join(folder, 'net.json'), join(folder, 'net.json.bin')], format: 'json', bytes: statSync(join(folder, 'net.json')).size + statSync(join(folder, 'net.json.bin')).size } });
    expect((JSON.parse(readFileSync(join(folder, 'net.json'), 'utf8')) as { weights: { file: string } }).weights.file).toBe('net.json.bin');
    await handlers.saveExport({ runId, format: 'csv' });
    expect(e.standIn.dialogs[1]!.options.defaultPath).toBe(join(folder, `run-${runId}.csv`));
  });

  it('a PyTorch project goes into the folder the dialog names (created; no extension added), its files the ones exportRun gives', async () => {
    const { e, handlers } = commands();
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'cluster run') });
    const r = await handlers.saveExport({ runId, format: 'pytorch' });
    const expected = await service.call('exportRun', { runId, format: 'pytorch' });
    if (!r.ok || !r.value || !expected.ok) throw new Error('export failed');
    const names = expected.value.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['model.py', 'train.py', 'weights.cnnm']));
    expect(r.value.paths).toEqual(names.map((n) => join(saves, 'cluster run', n)));
    expect(readdirSync(join(saves, 'cluster run')).sort()).toEqual([...names].sort());
    expect(readFileSync(join(saves, 'cluster run', 'model.py'), 'utf8')).toBe(Buffer.from(expected.value.files.find((f) => f.name === 'model.py')!.base64, 'base64').toString('utf8'));
    expect(e.standIn.dialogs[0]!.options.defaultPath).toBe(join(saves, `run-${runId}-pytorch`));
  });

  it('a web page is one .html file of the size the answer says', async () => {
    const { e, handlers } = commands();
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'share') });
    const r = await handlers.saveExport({ runId, format: 'html' });
    expect(r).toEqual({ ok: true, value: { paths: [join(saves, 'share.html')], format: 'html', bytes: statSync(join(saves, 'share.html')).size } });
    expect(readFileSync(join(saves, 'share.html'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(e.standIn.dialogs[0]!.options).toMatchObject({ filters: [{ extensions: ['html'] }] });
  });

  it('cancelled: answers null and writes nothing', async () => {
    const { e, handlers } = commands();
    const before = readdirSync(saves).length;
    e.standIn.answer('save', { canceled: true, filePath: '' });
    expect(await handlers.saveExport({ runId, format: 'onnx' })).toEqual({ ok: true, value: null });
    expect(readdirSync(saves).length).toBe(before);
  });

  it('a run without a snapshot, or a folder that cannot be written: the error as data, nothing written', async () => {
    const { e, handlers } = commands();
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'none.onnx') });
    const none = await handlers.saveExport({ runId: unsnapshottedRunId, format: 'onnx' });
    expect(none).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(existsSync(join(saves, 'none.onnx'))).toBe(false);
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'no-such-folder', 'x.onnx') });
    expect(await handlers.saveExport({ runId, format: 'onnx' })).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('cannot write') } });
  });

  it('the extension rule', () => {
    expect([exportTarget('/a/model', 'onnx'), exportTarget('/a/model.onnx', 'onnx'), exportTarget('/a/model.v2', 'json'), exportTarget('/a/.hidden', 'csv')])
      .toEqual(['/a/model.onnx', '/a/model.onnx', '/a/model.v2', '/a/.hidden.csv']);
    expect([exportTarget('/a/project', 'pytorch'), exportTarget('/a/share', 'html')]).toEqual(['/a/project', '/a/share.html']);
  });
});

describe('revealPath, openDataFolder, chooseImportPaths', () => {
  it('reveals only a file the shell wrote', async () => {
    const { e, handlers } = commands();
    expect(await handlers.revealPath({ path: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    e.standIn.answer('save', { canceled: false, filePath: join(saves, 'shown.onnx') });
    await handlers.saveExport({ runId, format: 'onnx' });
    expect(await handlers.revealPath({ path: join(saves, 'shown.onnx') })).toEqual({ ok: true, value: { revealed: true } });
    expect(e.standIn.opened.revealed).toEqual([join(saves, 'shown.onnx')]);
  });

  it('opens the data folder', async () => {
    const { e, handlers } = commands();
    expect(await handlers.openDataFolder({})).toEqual({ ok: true, value: { path: join(dir.path, 'library') } });
    expect(e.standIn.opened.paths).toEqual([join(dir.path, 'library')]);
  });

  it('asks for folders or files, several at once; a cancelled dialog gives no paths', async () => {
    const { e, handlers } = commands();
    e.standIn.answer('open', { canceled: false, filePaths: ['/data/a', '/data/b'] });
    e.standIn.answer('open', { canceled: true, filePaths: [] });
    expect(await handlers.chooseImportPaths({ kind: 'folder' })).toEqual({ ok: true, value: { paths: ['/data/a', '/data/b'] } });
    expect(await handlers.chooseImportPaths({ kind: 'file' })).toEqual({ ok: true, value: { paths: [] } });
    expect(e.standIn.dialogs.map((d) => d.options.properties)).toEqual([['openDirectory', 'multiSelections'], ['openFile', 'multiSelections']]);
  });
});
