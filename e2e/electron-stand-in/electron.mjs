/**
 * A stand-in for the `electron` module, for running the shell's modules, the *built* main bundle
 * (out/main/index.js) and the *built* preload (out/preload/index.cjs) in plain Node where the
 * Electron binary cannot be had. It is as much of Electron as the shell uses, wired to itself like
 * the real one:
 *  - ipcRenderer.invoke reaches the handler ipcMain.handle registered, with the event Electron
 *    gives (sender = the window's webContents, senderFrame = its top frame and URL), arguments and
 *    answers structured-cloned; standIn.invokeAs() forges another sender;
 *  - webContents.send reaches ipcRenderer listeners; contextBridge.exposeInMainWorld fills `world`;
 *  - app.quit() runs Electron's sequence: before-quit (preventable), each window's close
 *    (preventable: a prevented close cancels the quit), will-quit, quit;
 *  - protocol.handle, session permission handlers, web-contents-created, navigation events and the
 *    window-open handler are kept so tests can drive them (standIn.fetch, requestPermission,
 *    navigate, openWindow);
 *  - dialogs and webUtils are answered by the test (standIn.answer; a File's `path`, or
 *    standIn.droppedPaths by name for files the browser made from a real drop).
 * `createElectron()` makes an independent instance (unit tests); the module's own exports are the
 * one instance that `import 'electron'` gets through hooks.mjs. A BrowserWindow can be given a real
 * page through `standIn.windowHost` (chromium-window.mjs: Debian's Chromium through Playwright).
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const clone = (v) => (v === undefined ? undefined : structuredClone(v));

export function createElectron(options = {}) {
  const home = options.home ?? process.env.CNN_STUDIO_STAND_IN_HOME ?? join(tmpdir(), 'cnn-studio-stand-in');
  let nextWebContentsId = 1;
  // Electron does not emit window-all-closed while app.quit() closes the windows
  let closingForQuit = false;

  /** What tests look at and control. */
  const standIn = {
    home,
    world: {},
    windows: [],
    handlers: new Map(),
    listeners: new Map(),
    quitCount: 0,
    exitCode: null,
    /** Exit the process after 'quit', as Electron does (the forked app process sets it). */
    exitOnQuit: false,
    /** Whether requestSingleInstanceLock() gets the lock. */
    singleInstanceLock: true,
    sandboxEnabled: false,
    privilegedSchemes: [],
    protocolHandlers: new Map(),
    applicationMenu: null,
    aboutPanel: null,
    dialogs: [],
    errorBoxes: [],
    opened: { external: [], paths: [], revealed: [] },
    /** Queued answers per dialog kind ('open', 'save', 'message'); a dialog with none queued fails. */
    answers: { open: [], save: [], message: [] },
    /** webUtils.getPathForFile's answers for files dropped by the OS (here: by CDP), by file name. */
    droppedPaths: new Map(),
    displays: [{ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 }, bounds: { x: 0, y: 0, width: 1920, height: 1080 } }],
    /** Optional: opens a real page for a window (chromium-window.mjs). */
    windowHost: null,
    windowCreated: null,
    _resolveWindow: null,
    answer(kind, value) {
      standIn.answers[kind].push(value);
    },
    /** Calls an ipcMain handler as a given sender: { url, parent, sender } of a forged frame. */
    async invokeAs(from, channel, ...args) {
      const fn = standIn.handlers.get(channel);
      if (!fn) throw new Error(`No handler registered for '${channel}'`);
      const sender = from.sender ?? BrowserWindow.getAllWindows()[0]?.webContents ?? null;
      const frame = from.frame === null ? null : { url: from.url ?? '', parent: from.parent ?? null, top: null };
      return clone(await fn({ sender, senderFrame: frame }, ...args.map(clone)));
    },
    /** A request to a scheme registered with protocol.handle. */
    async fetch(url, init) {
      const scheme = new URL(url).protocol.slice(0, -1);
      const handler = standIn.protocolHandlers.get(scheme);
      if (!handler) throw new Error(`no protocol handler for ${scheme}:`);
      return handler(new Request(url, init));
    },
    /** Asks the session's permission handler as Chromium would; resolves with its decision. */
    requestPermission(webContents, permission, details = {}) {
      const handler = session.defaultSession.permissionRequestHandler;
      if (!handler) return Promise.resolve(true); // Electron's default: granted
      return new Promise((resolve) => handler(webContents, permission, resolve, { requestingUrl: webContents.getURL(), ...details }));
    },
    checkPermission(webContents, permission) {
      const handler = session.defaultSession.permissionCheckHandler;
      return handler ? handler(webContents, permission, webContents.getURL(), {}) : true;
    },
    /** The page tries to navigate: true when the navigation would go ahead. */
    navigate(webContents, url, event = 'will-navigate') {
      let prevented = false;
      webContents.emit(event, { preventDefault: () => (prevented = true), url }, url);
      return !prevented;
    },
    /** window.open / target=_blank: the window-open handler's answer. */
    openWindow(webContents, url) {
      if (!webContents.windowOpenHandler) return { action: 'allow' };
      return webContents.windowOpenHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } });
    },
    /** Finds a menu item by its labels from the top ('File', 'Export', 'ONNX Model…') and clicks it. */
    clickMenu(...labels) {
      let items = standIn.applicationMenu?.template ?? [];
      let item;
      for (const label of labels) {
        item = items.find((i) => (i.label ?? i.role) === label);
        if (!item) throw new Error(`no menu item ${JSON.stringify(label)} among ${items.map((i) => i.label ?? i.role ?? i.type).join(', ')}`);
        items = item.submenu ?? [];
      }
      if (!item.click) throw new Error(`menu item ${labels.join(' › ')} has no click (role ${item.role})`);
      item.click(item, BrowserWindow.getAllWindows()[0], {});
    },
  };
  standIn.windowCreated = new Promise((r) => (standIn._resolveWindow = r));

  class StandInApp extends EventEmitter {
    isPackaged = false;
    #paths = new Map();
    #quitting = false;
    whenReady() {
      return Promise.resolve();
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
    getAppPath() {
      return process.cwd();
    }
    getPath(name) {
      const path = this.#paths.get(name) ?? join(home, name);
      mkdirSync(path, { recursive: true });
      return path;
    }
    setPath(name, path) {
      this.#paths.set(name, path);
    }
    requestSingleInstanceLock() {
      return standIn.singleInstanceLock;
    }
    enableSandbox() {
      standIn.sandboxEnabled = true;
    }
    setAboutPanelOptions(options) {
      standIn.aboutPanel = options;
    }
    /** Electron's order: before-quit, then every window's close (a prevented one cancels), will-quit, quit. */
    quit() {
      if (this.#quitting) return;
      let prevented = false;
      this.emit('before-quit', { preventDefault: () => (prevented = true) });
      if (prevented) return;
      closingForQuit = true;
      try {
        for (const win of BrowserWindow.getAllWindows()) if (!win.close()) return;
      } finally {
        closingForQuit = false;
      }
      this.#quitting = true;
      this.emit('will-quit', { preventDefault: () => undefined });
      this.#finish(0);
    }
    exit(code = 0) {
      this.#quitting = true;
      this.#finish(code);
    }
    #finish(code) {
      standIn.quitCount++;
      standIn.exitCode = code;
      this.emit('quit', { preventDefault: () => undefined }, code);
      if (standIn.exitOnQuit) void Promise.resolve(standIn.windowHost?.closeAll()).finally(() => process.exit(code));
    }
  }
  const app = new StandInApp();

  class WebContents extends EventEmitter {
    #destroyed = false;
    url = '';
    constructor(win) {
      super();
      this.id = nextWebContentsId++;
      this.window = win;
      this.mainFrame = { parent: null, top: null, get url() { return win.webContents.url; } };
      this.mainFrame.top = this.mainFrame;
    }
    send(channel, payload) {
      if (this.#destroyed) throw new Error('Object has been destroyed');
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
      return this.url;
    }
  }

  class BrowserWindow extends EventEmitter {
    static getAllWindows() {
      return standIn.windows.filter((w) => !w.isDestroyed());
    }
    static fromWebContents(wc) {
      return standIn.windows.find((w) => w.webContents === wc) ?? null;
    }
    #destroyed = false;
    #maximized = false;
    #minimized = false;
    constructor(options = {}) {
      super();
      this.options = options;
      this.bounds = { x: options.x ?? 100, y: options.y ?? 100, width: options.width ?? 800, height: options.height ?? 600 };
      this.visible = false;
      this.webContents = new WebContents(this);
      standIn.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
      standIn._resolveWindow(this);
    }
    async loadURL(url) {
      this.loaded = url;
      this.webContents.url = url;
      if (standIn.windowHost) await standIn.windowHost.open(this, url);
      queueMicrotask(() => this.emit('ready-to-show'));
    }
    async loadFile(path) {
      return this.loadURL(new URL(`file://${path}`).href);
    }
    show() {
      this.visible = true;
    }
    focus() {
      this.focused = true;
    }
    restore() {
      this.#minimized = false;
    }
    minimize() {
      this.#minimized = true;
    }
    isMinimized() {
      return this.#minimized;
    }
    maximize() {
      this.#maximized = true;
    }
    isMaximized() {
      return this.#maximized;
    }
    getBounds() {
      return { ...this.bounds };
    }
    getNormalBounds() {
      return { ...this.bounds };
    }
    /** The user moved or resized the window. */
    setBounds(bounds) {
      this.bounds = { ...this.bounds, ...bounds };
      this.emit('resize');
      this.emit('move');
    }
    isDestroyed() {
      return this.#destroyed;
    }
    /** The close button: 'close' may be prevented; returns whether the window closed. */
    close() {
      if (this.#destroyed) return true;
      let prevented = false;
      this.emit('close', { preventDefault: () => (prevented = true) });
      if (prevented) return false;
      this.destroy();
      if (BrowserWindow.getAllWindows().length === 0 && !closingForQuit) app.emit('window-all-closed');
      return true;
    }
    destroy() {
      if (this.#destroyed) return;
      this.#destroyed = true;
      this.webContents.destroy();
      void standIn.windowHost?.close(this);
      this.emit('closed');
    }
  }

  const ipcMain = {
    handle(channel, fn) {
      if (standIn.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      standIn.handlers.set(channel, fn);
    },
    removeHandler(channel) {
      standIn.handlers.delete(channel);
    },
    on() {},
  };

  const ipcRenderer = {
    /** From the page of the first window: sender and senderFrame as Electron gives them. */
    async invoke(channel, ...args) {
      const fn = standIn.handlers.get(channel);
      if (!fn) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`);
      const sender = BrowserWindow.getAllWindows()[0]?.webContents ?? null;
      return clone(await fn({ sender, senderFrame: sender?.mainFrame ?? null }, ...args.map(clone)));
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

  const contextBridge = {
    exposeInMainWorld(key, api) {
      standIn.world[key] = api;
    },
  };

  /** A dropped File's path: what the OS gave the drop — the test says it, on the File (`path`) or by its name. */
  const webUtils = {
    getPathForFile(file) {
      if (typeof file?.path === 'string') return file.path;
      return standIn.droppedPaths.get(file?.name) ?? '';
    },
  };

  const nextAnswer = (kind, options) => {
    standIn.dialogs.push({ kind, options });
    standIn.onDialog?.(kind, options);
    if (standIn.answers[kind].length === 0) return Promise.reject(new Error(`stand-in: a ${kind} dialog was shown (${options?.title ?? ''}) but the test queued no answer`));
    return Promise.resolve(standIn.answers[kind].shift());
  };
  const withoutWindow = (a, b) => (b === undefined ? a : b);
  const dialog = {
    showOpenDialog: (a, b) => nextAnswer('open', withoutWindow(a, b)),
    showSaveDialog: (a, b) => nextAnswer('save', withoutWindow(a, b)),
    showMessageBox: (a, b) => nextAnswer('message', withoutWindow(a, b)),
    showErrorBox: (title, content) => void standIn.errorBoxes.push({ title, content }),
  };

  const shell = {
    async openExternal(url) {
      standIn.opened.external.push(url);
    },
    showItemInFolder(path) {
      standIn.opened.revealed.push(path);
    },
    async openPath(path) {
      standIn.opened.paths.push(path);
      return '';
    },
  };

  const session = {
    defaultSession: {
      permissionRequestHandler: null,
      permissionCheckHandler: null,
      devicePermissionHandler: null,
      setPermissionRequestHandler(fn) {
        this.permissionRequestHandler = fn;
      },
      setPermissionCheckHandler(fn) {
        this.permissionCheckHandler = fn;
      },
      setDevicePermissionHandler(fn) {
        this.devicePermissionHandler = fn;
      },
    },
  };

  const protocol = {
    registerSchemesAsPrivileged(schemes) {
      standIn.privilegedSchemes.push(...schemes);
    },
    handle(scheme, handler) {
      if (standIn.protocolHandlers.has(scheme)) throw new Error(`scheme ${scheme} is already handled`);
      standIn.protocolHandlers.set(scheme, handler);
    },
  };

  const Menu = {
    buildFromTemplate(template) {
      return { template, items: template };
    },
    setApplicationMenu(menu) {
      standIn.applicationMenu = menu;
    },
  };

  const nativeTheme = Object.assign(new EventEmitter(), { themeSource: 'system', shouldUseDarkColors: false });

  const screen = {
    getAllDisplays: () => standIn.displays,
    getPrimaryDisplay: () => standIn.displays[0],
  };

  const electron = { app, BrowserWindow, ipcMain, ipcRenderer, contextBridge, webUtils, dialog, shell, session, protocol, Menu, nativeTheme, screen };
  return { ...electron, standIn, electron };
}

const instance = createElectron();
export const { standIn, app, BrowserWindow, ipcMain, ipcRenderer, contextBridge, webUtils, dialog, shell, session, protocol, Menu, nativeTheme, screen } = instance;
export default instance.electron;
