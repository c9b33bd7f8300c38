import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_KEY, bindIpcMain, exposeStudioApi } from './ipc.js';
import type { Events, StudioApi } from './contract/index.js';
import { SAMPLE_DATASET_NAME, type Service } from './service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from './service/testing.js';

/** Fakes of the four Electron objects, wired to each other like the real ones. */
function fakeElectron() {
  const handlers = new Map<string, (event: unknown, request: unknown) => unknown>();
  const rendererListeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
  const ipcMain = {
    handle: (channel: string, fn: (event: unknown, request: unknown) => unknown) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, fn);
    },
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
  const ipcRenderer = {
    // structuredClone: what crosses IPC is a copy, as in Electron
    invoke: async (channel: string, request: unknown) => structuredClone(await handlers.get(channel)!({}, structuredClone(request))),
    on: (channel: string, fn: (event: unknown, payload: unknown) => void) => {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(fn);
      return ipcRenderer;
    },
    removeListener: (channel: string, fn: (event: unknown, payload: unknown) => void) => {
      rendererListeners.get(channel)?.delete(fn);
      return ipcRenderer;
    },
  };
  const webContents = {
    send: (channel: string, payload: unknown) => rendererListeners.get(channel)?.forEach((fn) => fn({}, structuredClone(payload))),
    isDestroyed: () => false,
  };
  const world: Record<string, unknown> = {};
  const contextBridge = { exposeInMainWorld: (key: string, api: unknown) => void (world[key] = api) };
  return { ipcMain, ipcRenderer, webContents, contextBridge, world, handlers };
}

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

it('exposes one function per command and on(); commands and events go through the IPC fakes to the real service', async () => {
  const e = fakeElectron();
  const unbind = bindIpcMain(e.ipcMain as never, service, () => [e.webContents as never]);
  exposeStudioApi(e.contextBridge as never, e.ipcRenderer as never);
  const api = e.world[API_KEY] as StudioApi;
  expect(Object.keys(api).sort()).toContain('startRun');
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
  expect(e.handlers.size).toBe(0);
  expect(() => api.on('nope' as 'runStatus', () => undefined)).toThrow(/unknown event "nope"/);
});
