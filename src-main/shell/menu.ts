/**
 * The application menu as a template (Menu.buildFromTemplate takes it as is): File, Edit, View,
 * Window, Help, with the app menu first on macOS (About, Services, Hide, Quit) and Quit under File
 * elsewhere. Actions come in as functions, so the template is tested without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { ExportFormat } from '../contract/shell.js';
import { THEMES, type Theme } from './settings.js';

export interface MenuActions {
  importDataset(kind: 'folder' | 'file'): void;
  openDataFolder(): void;
  exportRun(format: ExportFormat): void;
  setTheme(theme: Theme): void;
  showAbout(): void;
  showDataLocation(): void;
  openExternal(url: string): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  development: boolean;
  theme: Theme;
  actions: MenuActions;
}

export const HELP_LINKS = [
  { label: 'The ONNX Format', url: 'https://onnx.ai/' },
  { label: 'View a Model in Netron', url: 'https://netron.app/' },
] as const;

const EXPORTS: { format: ExportFormat; label: string; accelerator?: string }[] = [
  { format: 'onnx', label: 'ONNX Model…', accelerator: 'CmdOrCtrl+E' },
  { format: 'json', label: 'Model JSON + Weights…' },
  { format: 'csv', label: 'Metrics CSV…' },
  { format: 'html', label: 'Web Page (Self-Contained HTML)…' },
  { format: 'pytorch', label: 'PyTorch Project…' },
];

const THEME_LABELS: Record<Theme, string> = { system: 'Follow the System', light: 'Light', dark: 'Dark' };

export function applicationMenuTemplate(o: MenuOptions): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin';
  const a = o.actions;
  const about: MenuItemConstructorOptions = mac ? { role: 'about', label: `About ${o.appName}` } : { label: `About ${o.appName}`, click: () => a.showAbout() };

  const appMenu: MenuItemConstructorOptions = {
    label: o.appName,
    submenu: [about, { type: 'separator' }, { role: 'services' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
  };
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Import Dataset Folder…', accelerator: 'CmdOrCtrl+O', click: () => a.importDataset('folder') },
      { label: 'Import Dataset File…', accelerator: 'CmdOrCtrl+Shift+O', click: () => a.importDataset('file') },
      { label: 'Open Data Folder', click: () => a.openDataFolder() },
      { type: 'separator' },
      { label: 'Export', submenu: EXPORTS.map((e) => ({ label: e.label, ...(e.accelerator ? { accelerator: e.accelerator } : {}), click: () => a.exportRun(e.format) })) },
      ...(mac ? [{ type: 'separator' as const }, { role: 'close' as const }] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
    ],
  };
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { label: 'Theme', submenu: THEMES.map((t) => ({ label: THEME_LABELS[t], type: 'radio' as const, checked: t === o.theme, click: () => a.setTheme(t) })) },
      { type: 'separator' },
      { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      // reloading and DevTools are for development builds only
      ...(o.development ? [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'forceReload' as const }, { role: 'toggleDevTools' as const }] : []),
    ],
  };
  const window: MenuItemConstructorOptions = {
    label: 'Window',
    submenu: mac ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }] : [{ role: 'minimize' }, { role: 'close' }],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      { label: 'Where Is My Data?', click: () => a.showDataLocation() },
      { label: 'Open Data Folder', click: () => a.openDataFolder() },
      { type: 'separator' },
      ...HELP_LINKS.map((l) => ({ label: l.label, click: () => a.openExternal(l.url) })),
      ...(mac ? [] : [{ type: 'separator' as const }, about]),
    ],
  };
  return [...(mac ? [appMenu] : []), file, edit, view, window, help];
}

export interface AboutInfo {
  appName: string;
  appVersion: string;
  /** process.versions: electron, chrome, node. */
  versions: { electron?: string; chrome?: string; node?: string };
  engineVersion: string;
  /** The kernel set runs use by default here ('wasm-relaxed-simd', 'wasm-simd' or 'reference'). */
  kernels: string;
  dataDir: string;
}

/** The about box's lines (the macOS about panel's credits, a message box elsewhere). */
export function aboutLines(i: AboutInfo): string[] {
  const kernelNote = i.kernels === 'reference' ? 'reference (no WebAssembly SIMD here)' : `${i.kernels} (fast); reference kept as the oracle`;
  return [
    `${i.appName} ${i.appVersion}`,
    `Electron ${i.versions.electron ?? 'unknown'}`,
    `Chromium ${i.versions.chrome ?? 'unknown'}`,
    `Node ${i.versions.node ?? 'unknown'}`,
    `Engine ${i.engineVersion}`,
    `Kernels: ${kernelNote}`,
    `Data: ${i.dataDir}`,
  ];
}

export function dataLocationText(dataDir: string): { message: string; detail: string } {
  return {
    message: 'Your library is in this folder',
    detail: `${dataDir}\n\nIt holds studio.sqlite (datasets, runs, metrics, snapshots) and datasets/ (the decoded image cache). `
      + 'To back it up, quit CNN Studio and copy the whole folder; to restore, quit and put the copy back in its place. '
      + 'The cnn-studio command line uses the same library.',
  };
}
