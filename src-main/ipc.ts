/**
 * The Electron IPC binding of the contract. Electron objects come in as parameters (typed with
 * `import type` only), so this file loads in plain Node and is tested with fakes.
 *
 * Main process:  bindIpcMain(ipcMain, service, () => windows' webContents)
 * Preload:       exposeStudioApi(contextBridge, ipcRenderer)  → window.cnnStudio
 * The preload exposes one function per command and an `on(event, listener)`; never ipcRenderer itself.
 */
import type { IpcMain, IpcRenderer, ContextBridge, WebContents } from 'electron';
import { COMMAND_NAMES, EVENT_NAMES, type ContractHandler, type EventName, type StudioApi } from './contract/index.js';

export const COMMAND_CHANNEL_PREFIX = 'cnn-studio:command:';
export const EVENT_CHANNEL_PREFIX = 'cnn-studio:event:';
export const API_KEY = 'cnnStudio';

type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;
type IpcRendererLike = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
type ContextBridgeLike = Pick<ContextBridge, 'exposeInMainWorld'>;
type WebContentsLike = Pick<WebContents, 'send' | 'isDestroyed'>;

/** Registers a handler per command and forwards every event to the given windows. Returns an unbind. */
export function bindIpcMain(ipcMain: IpcMainLike, handler: ContractHandler, targets: () => WebContentsLike[]): () => void {
  for (const command of COMMAND_NAMES) {
    ipcMain.handle(COMMAND_CHANNEL_PREFIX + command, (_event, request) => handler.call(command, request));
  }
  const offs = EVENT_NAMES.map((name) => handler.on(name, (payload) => {
    for (const wc of targets()) if (!wc.isDestroyed()) wc.send(EVENT_CHANNEL_PREFIX + name, payload);
  }));
  return () => {
    for (const command of COMMAND_NAMES) ipcMain.removeHandler(COMMAND_CHANNEL_PREFIX + command);
    offs.forEach((off) => off());
  };
}

/** Builds the renderer-side API over ipcRenderer and exposes it as window[API_KEY]. */
export function exposeStudioApi(contextBridge: ContextBridgeLike, ipcRenderer: IpcRendererLike): StudioApi {
  const api = createStudioApi(ipcRenderer);
  contextBridge.exposeInMainWorld(API_KEY, api);
  return api;
}

export function createStudioApi(ipcRenderer: IpcRendererLike): StudioApi {
  const api: Record<string, unknown> = {};
  for (const command of COMMAND_NAMES) {
    api[command] = (request: unknown) => ipcRenderer.invoke(COMMAND_CHANNEL_PREFIX + command, request ?? {});
  }
  api.on = (event: EventName, listener: (payload: unknown) => void) => {
    if (!EVENT_NAMES.includes(event)) throw new Error(`unknown event ${JSON.stringify(event)}; events are ${EVENT_NAMES.join(', ')}`);
    const wrapped = (_e: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL_PREFIX + event, wrapped);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL_PREFIX + event, wrapped);
  };
  return api as StudioApi;
}
