/**
 * A stand-in for the `electron` module, for running the *built* main bundle (out/main/index.js) and
 * the *built* preload (out/preload/index.cjs) in plain Node where the Electron binary cannot be had.
 * It is as much of Electron as the shell uses, wired to itself like the real one: ipcRenderer.invoke
 * reaches the handler ipcMain.handle registered (with a sender frame, arguments structured-cloned),
 * webContents.send reaches ipcRenderer listeners, contextBridge.exposeInMainWorld puts the API in
 * `world`. Tests answer dialogs and webUtils through `standIn`.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const clone = (v) => (v === undefined ? undefined : structuredClone(v));

/** What tests look at and control. */
export const standIn = {
  world: {},
  windows: [],
  handlers: new Map(),
  listeners: new Map(),
  quitCount: 0,
  /** The URL the app's window frame has (what a sender check compares against). */
  frameUrl: null,
  windowCreated: null,
  _resolveWindow: null,
};
standIn.windowCreated = new Promise((r) => (standIn._resolveWindow = r));

class StandInApp extends EventEmitter {
  isPackaged = false;
  #ready = Promise.resolve();
  #quitting = false;
  whenReady() {
    return this.#ready;
  }
  isReady() {
    return true;
  }
  getName() {
    return 'cnn-studio';
  }
  getVersion() {
    return '0.0.0-stand-in';
  }
  getPath(name) {
    const base = process.env.CNN_STUDIO_STAND_IN_HOME ?? join(tmpdir(), 'cnn-studio-stand-in');
    const path = join(base, name);
    mkdirSync(path, { recursive: true });
    return path;
  }
  requestSingleInstanceLock() {
    return true;
  }
  quit() {
    if (this.#quitting) return;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.#quitting = true;
    standIn.quitCount++;
    this.emit('will-quit', { preventDefault: () => undefined });
    this.emit('quit');
  }
}
export const app = new StandInApp();

class WebContents extends EventEmitter {
  #destroyed = false;
  constructor(win) {
    super();
    this.window = win;
  }
  send(channel, payload) {
    for (const fn of standIn.listeners.get(channel) ?? []) fn({ sender: this }, clone(payload));
  }
  isDestroyed() {
    return this.#destroyed;
  }
  destroy() {
    this.#destroyed = true;
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn;
  }
  getURL() {
    return standIn.frameUrl ?? '';
  }
}

export class BrowserWindow extends EventEmitter {
  static getAllWindows() {
    return standIn.windows.filter((w) => !w.isDestroyed());
  }
  #destroyed = false;
  constructor(options = {}) {
    super();
    this.options = options;
    this.webContents = new WebContents(this);
    standIn.windows.push(this);
    standIn._resolveWindow(this);
  }
  async loadFile(path) {
    this.loaded = path;
    standIn.frameUrl = new URL(`file://${path}`).href;
    queueMicrotask(() => this.emit('ready-to-show'));
  }
  async loadURL(url) {
    this.loaded = url;
    standIn.frameUrl = url;
    queueMicrotask(() => this.emit('ready-to-show'));
  }
  show() {}
  focus() {}
  isDestroyed() {
    return this.#destroyed;
  }
  close() {
    this.emit('close', { preventDefault: () => undefined });
    this.#destroyed = true;
    this.webContents.destroy();
    this.emit('closed');
    if (BrowserWindow.getAllWindows().length === 0) app.emit('window-all-closed');
  }
}

export const ipcMain = {
  handle(channel, fn) {
    if (standIn.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    standIn.handlers.set(channel, fn);
  },
  removeHandler(channel) {
    standIn.handlers.delete(channel);
  },
  on() {},
};

export const ipcRenderer = {
  async invoke(channel, ...args) {
    const fn = standIn.handlers.get(channel);
    if (!fn) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`);
    const win = BrowserWindow.getAllWindows()[0];
    const event = { sender: win?.webContents, senderFrame: { url: standIn.frameUrl ?? '' } };
    return clone(await fn(event, ...args.map(clone)));
  },
  on(channel, fn) {
    if (!standIn.listeners.has(channel)) standIn.listeners.set(channel, new Set());
    standIn.listeners.get(channel).add(fn);
    return ipcRenderer;
  },
  removeListener(channel, fn) {
    standIn.listeners.get(channel)?.delete(fn);
    return ipcRenderer;
  },
};

export const contextBridge = {
  exposeInMainWorld(key, api) {
    standIn.world[key] = api;
  },
};

export default { app, BrowserWindow, ipcMain, ipcRenderer, contextBridge };
