/**
 * The IPC binding on the Electron stand-in: the preload's API reaches the real service; every
 * handler of both contracts refuses a forged sender and a malformed argument with an error as data,
 * without reaching the handler behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElectron } from '../e2e/electron-stand-in/electron.mjs';
import { COMMAND_NAMES, type ContractHandler, type Events, type Result, type StudioApi } from './contract/index.js';
import { SHELL_COMMAND_NAMES, type ShellApi } from './contract/shell.js';
import { API_KEY, bindIpcMain, bindShellIpc, COMMAND_CHANNEL_PREFIX, createShellApi, exposeShellApi, exposeStudioApi, SHELL_API_KEY, SHELL_CHANNEL_PREFIX } from './ipc.js';
import { SAMPLE_DATASET_NAME, type Service } from './service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from './service/testing.js';
import { RENDERER_ENTRY_URL } from './shell/app-origin.js';
import type { ShellHandlers } from './shell/shell-commands.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
});
afterAll(async () => {
  await service?.close();
  dir?.remove();
});

/** A stand-in Electron with one app window showing the app's page. */
async function appWindow() {
  const e = createElectron({ home: dir.path });
  const win = new e.BrowserWindow({});
  await win.loadURL(RENDERER_ENTRY_URL);
  const windows = () => e.BrowserWindow.getAllWindows().map((w) => w.webContents);
  return { e, win, windows };
}

it('exposes one function per command and on(); commands and events go through IPC to the real service', async () => {
  const { e, windows } = await appWindow();
  const unbind = bindIpcMain(e.ipcMain, service, { windows });
  exposeStudioApi(e.contextBridge, e.ipcRenderer);
  const api = e.standIn.world[API_KEY] as StudioApi;
  expect(Object.keys(api).sort()).toEqual([...COMMAND_NAMES, 'on'].sort());
  expect('invoke' in api).toBe(false);

  const list = await api.listDatasets({});
  expect(list.ok && list.value[0]!.name).toBe(SAMPLE_DATASET_NAME);
  const refused = await api.startRun({ datasetId: 1, spec: { ...MLP_SPEC, inputShape: [28, 28, 3] } });
  expect(refused.ok ? null : refused.error.code).toBe('invalid_spec');

  const statuses: string[] = [];
  const off = api.on('runStatus', (p: Events['runStatus']) => statuses.push(p.status));
  const started = await api.startRun({ datasetId: 1, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
  expect(started.ok).toBe(true);
  if (started.ok) await service.runs.waitFor(started.value.id);
  off();
  expect(statuses).toEqual(['queued', 'running', 'completed']);
  unbind();
  expect(e.standIn.handlers.size).toBe(0);
  expect(() => api.on('nope' as 'runStatus', () => undefined)).toThrow(/unknown event "nope"/);
});

it('the shell API: one function per shell command, pathForFile from webUtils, on(); never ipcRenderer', async () => {
  const { e } = await appWindow();
  exposeShellApi(e.contextBridge, e.ipcRenderer, e.webUtils);
  const api = e.standIn.world[SHELL_API_KEY] as ShellApi;
  expect(Object.keys(api).sort()).toEqual([...SHELL_COMMAND_NAMES, 'on', 'pathForFile'].sort());
  expect('invoke' in api).toBe(false);
  // webUtils answers with the path the OS gave the drop (the stand-in: the File's `path`)
  expect(await api.pathForFile({ name: 'sample', path: '/data/sample' } as unknown as File)).toBe('/data/sample');
  expect(await api.pathForFile({ name: 'pasted' } as unknown as File)).toBe('');
  expect(() => api.on('nope' as 'quitting', () => undefined)).toThrow(/unknown event "nope"/);
});

/** Forged callers: each must be refused before the handler runs. */
const FORGED: [string, (w: Awaited<ReturnType<typeof appWindow>>) => { url?: string; parent?: unknown; frame?: null; sender?: unknown }][] = [
  ['a frame showing another origin', () => ({ url: 'https://evil.example/' })],
  ['a file:// page', () => ({ url: 'file:///tmp/x.html' })],
  ['a subframe of the app page', (w) => ({ url: RENDERER_ENTRY_URL, parent: w.win.webContents.mainFrame })],
  ['a frame that is gone', () => ({ frame: null })],
  ['a webContents that is no app window', () => ({ url: RENDERER_ENTRY_URL, sender: { id: 999 } })],
];

describe('every contract handler', () => {
  const calls: string[] = [];
  const spy: ContractHandler = {
    call: async (command) => {
      calls.push(command);
      return { ok: true, value: null as never };
    },
    on: () => () => undefined,
  };

  it.each(FORGED)('refuses %s (unauthorized), without calling the service', async (_name, forge) => {
    const w = await appWindow();
    const unbind = bindIpcMain(w.e.ipcMain, spy, { windows: w.windows });
    calls.length = 0;
    for (const command of COMMAND_NAMES) {
      const r = (await w.e.standIn.invokeAs(forge(w), COMMAND_CHANNEL_PREFIX + command, {})) as Result<unknown>;
      expect(r, command).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    expect(calls).toEqual([]);
    unbind();
  });

  it('refuses a malformed argument and a second argument (bad_request), without calling the service; the app page gets through', async () => {
    const w = await appWindow();
    const unbind = bindIpcMain(w.e.ipcMain, spy, { windows: w.windows });
    const own = { url: RENDERER_ENTRY_URL };
    calls.length = 0;
    for (const command of COMMAND_NAMES) {
      const malformed = (await w.e.standIn.invokeAs(own, COMMAND_CHANNEL_PREFIX + command, 'not a request')) as Result<unknown>;
      expect(malformed, command).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      const twoArgs = (await w.e.standIn.invokeAs(own, COMMAND_CHANNEL_PREFIX + command, {}, { extra: 1 })) as Result<unknown>;
      expect(twoArgs, command).toMatchObject({ ok: false, error: { code: 'bad_request', message: `${command}: takes one argument (the request), got 2` } });
    }
    expect(calls).toEqual([]);
    // a field's refusal names the field
    const field = (await w.e.standIn.invokeAs(own, COMMAND_CHANNEL_PREFIX + 'getRun', { id: 'seven' })) as Result<unknown>;
    expect(field).toMatchObject({ ok: false, error: { code: 'bad_request', detail: { field: 'id' } } });
    const fine = (await w.e.standIn.invokeAs(own, COMMAND_CHANNEL_PREFIX + 'listDatasets', {})) as Result<unknown>;
    expect(fine.ok).toBe(true);
    expect(calls).toEqual(['listDatasets']);
    unbind();
  });
});

describe('every shell handler', () => {
  const calls: string[] = [];
  const spy = Object.fromEntries(SHELL_COMMAND_NAMES.map((name) => [name, async () => {
    calls.push(name);
    return { ok: true, value: null };
  }])) as unknown as ShellHandlers;
  /** A well-formed request per shell command. */
  const GOOD: Record<string, unknown> = { chooseImportPaths: { kind: 'folder' }, saveExport: { runId: 1, format: 'onnx' }, revealPath: { path: '/x' }, openDataFolder: {} };
  /** A malformed one per shell command, and the field its refusal names. */
  const BAD: Record<string, [unknown, string]> = {
    chooseImportPaths: [{ kind: 'anything' }, 'kind'],
    saveExport: [{ runId: 1, format: 'onnx', path: '/etc/passwd' }, 'path'],
    revealPath: [{ path: 42 }, 'path'],
    openDataFolder: [{ folder: '/' }, 'folder'],
  };

  it('has a good and a bad request for each shell command', () => {
    expect(Object.keys(GOOD).sort()).toEqual([...SHELL_COMMAND_NAMES].sort());
    expect(Object.keys(BAD).sort()).toEqual([...SHELL_COMMAND_NAMES].sort());
  });

  it.each(FORGED)('refuses %s (unauthorized), without calling the handler', async (_name, forge) => {
    const w = await appWindow();
    const { unbind } = bindShellIpc(w.e.ipcMain, spy, { windows: w.windows });
    calls.length = 0;
    for (const command of SHELL_COMMAND_NAMES) {
      const r = (await w.e.standIn.invokeAs(forge(w), SHELL_CHANNEL_PREFIX + command, GOOD[command])) as Result<unknown>;
      expect(r, command).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    expect(calls).toEqual([]);
    unbind();
  });

  it('refuses a malformed argument naming the field, and a second argument; the app page gets through', async () => {
    const w = await appWindow();
    const { unbind } = bindShellIpc(w.e.ipcMain, spy, { windows: w.windows });
    const own = { url: RENDERER_ENTRY_URL };
    calls.length = 0;
    for (const command of SHELL_COMMAND_NAMES) {
      const [bad, field] = BAD[command]!;
      const malformed = (await w.e.standIn.invokeAs(own, SHELL_CHANNEL_PREFIX + command, bad)) as Result<unknown>;
      expect(malformed, command).toMatchObject({ ok: false, error: { code: 'bad_request', detail: { field } } });
      const twoArgs = (await w.e.standIn.invokeAs(own, SHELL_CHANNEL_PREFIX + command, GOOD[command], 'more')) as Result<unknown>;
      expect(twoArgs, command).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    expect(calls).toEqual([]);
    for (const command of SHELL_COMMAND_NAMES) {
      expect(((await w.e.standIn.invokeAs(own, SHELL_CHANNEL_PREFIX + command, GOOD[command])) as Result<unknown>).ok, command).toBe(true);
    }
    expect(calls).toEqual(SHELL_COMMAND_NAMES);
    unbind();
  });

  it('a handler that throws answers internal as data; shell events reach the page', async () => {
    const w = await appWindow();
    const throwing = { ...spy, openDataFolder: async () => { throw new Error('disk on fire'); } } as ShellHandlers;
    const { unbind, send } = bindShellIpc(w.e.ipcMain, throwing, { windows: w.windows });
    const api = createShellApi(w.e.ipcRenderer, w.e.webUtils);
    expect(await api.openDataFolder({})).toEqual({ ok: false, error: { code: 'internal', message: 'openDataFolder: disk on fire' } });
    const got: unknown[] = [];
    const off = api.on('importPaths', (p) => got.push(p));
    send('importPaths', { paths: ['/a', '/b'] });
    off();
    send('importPaths', { paths: ['/c'] });
    expect(got).toEqual([{ paths: ['/a', '/b'] }]);
    unbind();
  });
});
