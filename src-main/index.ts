/**
 * The Electron shell (main process): one window over the built renderer, the contract bound to
 * IPC, the library in app.getPath('userData') — the same one the CLI uses by default. Only thin
 * Electron calls live here; everything else is in modules tested in plain Node.
 */
import { app, BrowserWindow, ipcMain } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStudio } from './composition.js';
import { bundledSamplePath, setBundledSamplePath } from './datasets/index.js';
import { bindIpcMain } from './ipc.js';
import { DATABASE_FILE } from './service/paths.js';
import type { Service } from './service/service.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let service: Service | null = null;
let window: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadFile(join(here, '../renderer/index.html'));
  return win;
}

async function start(): Promise<void> {
  await app.whenReady();
  // A packaged app finds the sample in its resources folder; a checkout finds it above this file.
  try {
    bundledSamplePath();
  } catch {
    setBundledSamplePath(join(process.resourcesPath, 'datasets', 'fashion-mnist-sample'));
  }
  service = await openStudio(join(app.getPath('userData'), DATABASE_FILE));
  bindIpcMain(ipcMain, service, () => (window && !window.isDestroyed() ? [window.webContents] : []));
  window = createWindow();
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !service) return;
  // Running trainings pause and snapshot before the app goes.
  event.preventDefault();
  quitting = true;
  void service.close().finally(() => app.quit());
});
app.on('window-all-closed', () => app.quit());

void start();
