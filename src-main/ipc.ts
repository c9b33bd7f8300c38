/**
 * The Electron IPC binding of the two contracts: the service's (src-main/contract/commands.ts) and
 * the shell's (src-main/contract/shell.ts). Electron objects come in as parameters (typed with
 * `import type` only), so this file loads in plain Node and is tested with the stand-in.
 *
 * Main process:  bindIpcMain(ipcMain, service, { windows })       every contract command
 *                bindShellIpc(ipcMain, shellHandlers, { windows })  every shell command
 * Preload:       exposeStudioApi(contextBridge, ipcRenderer)              → window.cnnStudio
 *                exposeShellApi(contextBridge, ipcRenderer, webUtils)     → window.cnnStudioShell
 *
 * Every handler first checks who calls (the app window's own top frame, shell/sender.ts), then that
 * it got exactly one argument matching the command's schema; a refusal is an error as data, and the
 * handler behind it is never reached. The preload exposes one function per command and an `on`;
 * never ipcRenderer itself.
 */
import type { ContextBridge, IpcMain, IpcMainInvokeEvent, IpcRenderer, WebContents, WebUtils } from 'electron';
import {
  COMMAND_NAMES, COMMANDS, EVENT_NAMES, type CommandName, type ContractHandler, type EventName, type Result, type StudioApi,
} from './contract/index.js';
import { RequestError, type Schema } from './contract/schema.js';
import {
  SHELL_API_KEY, SHELL_COMMAND_NAMES, SHELL_COMMANDS, SHELL_EVENT_NAMES, type ShellApi, type ShellCommandName, type ShellEventName, type ShellEvents,
} from './contract/shell.js';
import type { ShellHandlers } from './shell/shell-commands.js';
import { appSenderCheck, type SenderCheck } from './shell/sender.js';

export const COMMAND_CHANNEL_PREFIX = 'cnn-studio:command:';
export const EVENT_CHANNEL_PREFIX = 'cnn-studio:event:';
export const SHELL_CHANNEL_PREFIX = 'cnn-studio:shell:';
export const SHELL_EVENT_CHANNEL_PREFIX = 'cnn-studio:shell-event:';
export const API_KEY = 'cnnStudio';
export { SHELL_API_KEY };

type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;
type IpcRendererLike = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
type ContextBridgeLike = Pick<ContextBridge, 'exposeInMainWorld'>;
type WebContentsLike = Pick<WebContents, 'id' | 'send' | 'isDestroyed'>;

export interface BindOptions {
  /** The app's windows: events go to them, and only they may call. */
  windows: () => WebContentsLike[];
  /** Who may call; default: the top frame of one of `windows` showing the app's page. */
  check?: SenderCheck;
}

const refused = (code: 'unauthorized' | 'bad_request', message: string, field?: string): Result<never> =>
  ({ ok: false, error: field === undefined ? { code, message } : { code, message, detail: { field } } });

/**
 * One handler per channel: sender check, one argument, schema, then `call` with the parsed request.
 * A throw from `call` is an `internal` error as data, like the service's own.
 */
function bindChannels<N extends string>(
  ipcMain: IpcMainLike, prefix: string, schemas: Record<N, Schema<unknown>>, names: readonly N[], check: SenderCheck,
  call: (name: N, request: unknown) => Promise<Result<unknown>>,
): () => void {
  for (const name of names) {
    ipcMain.handle(prefix + name, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const who = check(event);
      if (who) return refused('unauthorized', `${name}: refused: ${who}`);
      if (args.length > 1) return refused('bad_request', `${name}: takes one argument (the request), got ${args.length}`);
      let request: unknown;
      try {
        request = schemas[name].parse(args[0], '');
      } catch (e) {
        if (e instanceof RequestError) return refused('bad_request', `${name}: ${e.message}`, e.field);
        throw e;
      }
      try {
        return await call(name, request);
      } catch (e) {
        return { ok: false, error: { code: 'internal', message: `${name}: ${(e as Error)?.message ?? String(e)}` } };
      }
    });
  }
  return () => names.forEach((name) => ipcMain.removeHandler(prefix + name));
}

const sendTo = (windows: () => WebContentsLike[], channel: string, payload: unknown) => {
  for (const wc of windows()) if (!wc.isDestroyed()) wc.send(channel, payload);
};

/** Registers a handler per contract command and forwards every event to the windows. Returns an unbind. */
export function bindIpcMain(ipcMain: IpcMainLike, handler: ContractHandler, o: BindOptions): () => void {
  const check = o.check ?? appSenderCheck(o.windows);
  const unbind = bindChannels(ipcMain, COMMAND_CHANNEL_PREFIX, COMMANDS, COMMAND_NAMES, check, (command: CommandName, request) => handler.call(command, request));
  const offs = EVENT_NAMES.map((name) => handler.on(name, (payload) => sendTo(o.windows, EVENT_CHANNEL_PREFIX + name, payload)));
  return () => {
    unbind();
    offs.forEach((off) => off());
  };
}

/** Registers a handler per shell command; returns the unbind and the way to push shell events. */
export function bindShellIpc(ipcMain: IpcMainLike, handlers: ShellHandlers, o: BindOptions): {
  unbind: () => void;
  send<E extends ShellEventName>(event: E, payload: ShellEvents[E]): void;
} {
  const check = o.check ?? appSenderCheck(o.windows);
  const unbind = bindChannels(ipcMain, SHELL_CHANNEL_PREFIX, SHELL_COMMANDS, SHELL_COMMAND_NAMES, check,
    (name: ShellCommandName, request) => (handlers[name] as (r: unknown) => Promise<Result<unknown>>)(request));
  return { unbind, send: (event, payload) => sendTo(o.windows, SHELL_EVENT_CHANNEL_PREFIX + event, payload) };
}

function subscribe(ipcRenderer: IpcRendererLike, prefix: string, known: readonly string[], event: string, listener: (payload: never) => void): () => void {
  if (!known.includes(event)) throw new Error(`unknown event ${JSON.stringify(event)}; events are ${known.join(', ')}`);
  const wrapped = (_e: unknown, payload: unknown) => listener(payload as never);
  ipcRenderer.on(prefix + event, wrapped);
  return () => void ipcRenderer.removeListener(prefix + event, wrapped);
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
  api.on = (event: EventName, listener: (payload: never) => void) => subscribe(ipcRenderer, EVENT_CHANNEL_PREFIX, EVENT_NAMES, event, listener);
  return api as StudioApi;
}

/** The shell API over ipcRenderer, plus the dropped file's path from webUtils; exposed as window[SHELL_API_KEY]. */
export function exposeShellApi(contextBridge: ContextBridgeLike, ipcRenderer: IpcRendererLike, webUtils: Pick<WebUtils, 'getPathForFile'>): ShellApi {
  const api = createShellApi(ipcRenderer, webUtils);
  contextBridge.exposeInMainWorld(SHELL_API_KEY, api);
  return api;
}

export function createShellApi(ipcRenderer: IpcRendererLike, webUtils: Pick<WebUtils, 'getPathForFile'>): ShellApi {
  const api: Record<string, unknown> = {};
  for (const command of SHELL_COMMAND_NAMES) {
    api[command] = (request: unknown) => ipcRenderer.invoke(SHELL_CHANNEL_PREFIX + command, request ?? {});
  }
  // webUtils works in the preload only (the page cannot reach a File's path itself); async like the rest
  api.pathForFile = async (file: File) => webUtils.getPathForFile(file);
  api.on = (event: ShellEventName, listener: (payload: never) => void) => subscribe(ipcRenderer, SHELL_EVENT_CHANNEL_PREFIX, SHELL_EVENT_NAMES, event, listener);
  return api as ShellApi;
}
