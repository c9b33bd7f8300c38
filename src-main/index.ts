/**
 * The Electron shell (main process): the one file that calls Electron. It wires Electron's objects
 * into the modules under ./shell/, which make every decision (window options, CSP, navigation and
 * permission refusals, sender checks, the menu, the quit sequence, the window's remembered place)
 * and are tested in plain Node with the stand-in (e2e/electron-stand-in/).
 *
 * The library lives in app.getPath('userData') — <appData>/cnn-studio, the folder the CLI uses by
 * default (service/paths.ts) — whatever the product name is.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, protocol, screen, session, shell, type MessageBoxOptions } from 'electron';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_VERSION, resolveKernels } from '../src-engine/index.js';
import { openStudio } from './composition.js';
import { bundledSamplePath, setBundledSamplePath } from './datasets/index.js';
import { bindIpcMain, bindShellIpc } from './ipc.js';
import { APP_NAME, DATABASE_FILE } from './service/paths.js';
import type { Service } from './service/service.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, RENDERER_ENTRY_URL } from './shell/app-origin.js';
import { aboutLines, applicationMenuTemplate, dataLocationText, type AboutInfo } from './shell/menu.js';
import { guardNavigation, openExternalIfAllowed } from './shell/navigation.js';
import { denyAllPermissions } from './shell/permissions.js';
import { QuitSequence } from './shell/quit.js';
import { rendererRequestHandler } from './shell/renderer-protocol.js';
import { readSettings, writeSettings, type Theme } from './shell/settings.js';
import { shellCommands } from './shell/shell-commands.js';
import { bringToFront, claimSingleInstance } from './shell/single-instance.js';
import { mainWindowOptions, placeWindow, rememberWindowState } from './shell/window.js';

const PRODUCT_NAME = 'CNN Studio';
const here = fileURLToPath(new URL('.', import.meta.url));
const development = !app.isPackaged;
const log = (message: string) => process.stderr.write(`[cnn-studio] ${message}\n`);

// Before ready: the app scheme is a secure standard one, every renderer is sandboxed, and the data
// folder is the CLI's — or CNN_STUDIO_DATA_DIR, another library (a restored backup, a test's) — set
// first: the single-instance lock lives there too, so two libraries can be open at once.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();
app.setPath('userData', process.env.CNN_STUDIO_DATA_DIR ? resolve(process.env.CNN_STUDIO_DATA_DIR) : join(app.getPath('appData'), APP_NAME));
const dataDir = app.getPath('userData');

let window: BrowserWindow | null = null;
const liveWindow = () => (window && !window.isDestroyed() ? window : null);
const appWindows = () => BrowserWindow.getAllWindows().filter((w) => !w.isDestroyed()).map((w) => w.webContents);

if (claimSingleInstance(app, () => { const w = liveWindow(); if (w) bringToFront(w); })) void start();

async function start(): Promise<void> {
  app.on('web-contents-created', (_event, contents) => guardNavigation(contents, {
    openExternal: (url) => shell.openExternal(url),
    refused: (what, url) => log(`refused ${what} to ${url.slice(0, 200)}`),
  }));
  await app.whenReady();

  // A packaged app finds the sample in its resources folder; a checkout finds it above this file.
  try {
    bundledSamplePath();
  } catch {
    setBundledSamplePath(join(process.resourcesPath, 'datasets', 'fashion-mnist-sample'));
  }
  const settings = readSettings(dataDir);
  nativeTheme.themeSource = settings.theme ?? 'system';
  let service: Service;
  try {
    service = await openStudio(join(dataDir, DATABASE_FILE));
  } catch (e) {
    dialog.showErrorBox(`${PRODUCT_NAME} cannot open its library`, `${join(dataDir, DATABASE_FILE)}\n\n${(e as Error).message}`);
    app.exit(1);
    return;
  }
  if (service.startup.sampleError) log(`the bundled sample dataset could not be imported: ${service.startup.sampleError}`);

  protocol.handle(APP_SCHEME, rendererRequestHandler(join(here, '../renderer')));
  denyAllPermissions(session.defaultSession, (permission, origin) => log(`denied permission ${permission} to ${origin}`));

  bindIpcMain(ipcMain, service, { windows: appWindows });
  // one set of shell commands for the page (through IPC) and the menu (directly): same dialogs, same rules
  const commands = shellCommands({ dialog, shell, window: liveWindow, service, dataDir, defaultSaveDir: app.getPath('documents') });
  const shellIpc = bindShellIpc(ipcMain, commands, { windows: appWindows });

  const quit = new QuitSequence({
    app,
    platform: process.platform,
    shutdown: () => service.close(),
    trainingCount: () => service.runningHere(),
    announce: (runs) => shellIpc.send('quitting', { runs }),
    log,
  });

  const about: AboutInfo = {
    appName: PRODUCT_NAME, appVersion: app.getVersion(), versions: process.versions, engineVersion: ENGINE_VERSION,
    kernels: resolveKernels('fast').name, dataDir,
  };
  const messageBox = (options: MessageBoxOptions) => {
    const w = liveWindow();
    return w ? dialog.showMessageBox(w, options) : dialog.showMessageBox(options);
  };
  if (process.platform === 'darwin') {
    app.setAboutPanelOptions({ applicationName: PRODUCT_NAME, applicationVersion: app.getVersion(), version: '', credits: aboutLines(about).slice(1).join('\n') });
  }
  const setMenu = (theme: Theme) => Menu.setApplicationMenu(Menu.buildFromTemplate(applicationMenuTemplate({
    platform: process.platform, appName: PRODUCT_NAME, development, theme,
    actions: {
      importDataset: (kind) => void commands.chooseImportPaths({ kind }).then((r) => {
        if (r.ok && r.value.paths.length) shellIpc.send('importPaths', { paths: r.value.paths });
      }),
      openDataFolder: () => void commands.openDataFolder({}),
      exportRun: (format) => shellIpc.send('exportRequested', { format }),
      setTheme: (t) => {
        nativeTheme.themeSource = t;
        settings.theme = t;
        writeSettings(dataDir, settings);
      },
      showAbout: () => void messageBox({ type: 'info', title: `About ${PRODUCT_NAME}`, message: aboutLines(about)[0]!, detail: aboutLines(about).slice(1).join('\n'), buttons: ['OK'] }),
      showDataLocation: () => {
        const { message, detail } = dataLocationText(dataDir);
        void messageBox({ type: 'info', title: 'Where Is My Data?', message, detail, buttons: ['Open Data Folder', 'OK'], defaultId: 1, cancelId: 1 })
          .then((r) => { if (r.response === 0) void shell.openPath(dataDir); });
      },
      openExternal: (url) => void openExternalIfAllowed(url, { openExternal: (u) => shell.openExternal(u) }),
    },
  })));
  setMenu(settings.theme ?? 'system');

  const createWindow = () => {
    const placement = placeWindow(settings.window, screen.getAllDisplays().map((d) => d.workArea));
    const icon = join(here, '../../resources/icons/png/512x512.png');
    const win = new BrowserWindow(mainWindowOptions({
      preload: join(here, '../preload/index.cjs'), placement, development, title: PRODUCT_NAME,
      backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#f6f7f9', ...(existsSync(icon) ? { icon } : {}),
    }));
    rememberWindowState(win, (state) => {
      settings.window = state;
      writeSettings(dataDir, settings);
    });
    quit.watch(win);
    win.once('ready-to-show', () => {
      if (placement.maximized) win.maximize();
      win.show();
    });
    win.on('closed', () => {
      if (window === win) window = null;
    });
    void win.loadURL(RENDERER_ENTRY_URL);
    window = win;
  };
  // macOS: the app stays in the dock with its window closed; clicking the dock icon brings one back
  app.on('activate', () => {
    if (!liveWindow() && quit.phase === 'open') createWindow();
  });
  createWindow();
}
