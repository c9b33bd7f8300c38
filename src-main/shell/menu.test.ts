/**
 * The application menu's template (as Menu.buildFromTemplate gets it) on each platform, its actions,
 * and the about box's lines.
 */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import { aboutLines, applicationMenuTemplate, dataLocationText, type MenuActions } from './menu.js';

function menu(platform: NodeJS.Platform, development = false) {
  const calls: string[] = [];
  const actions: MenuActions = {
    importDataset: (kind) => calls.push(`import ${kind}`),
    openDataFolder: () => calls.push('data folder'),
    exportRun: (format) => calls.push(`export ${format}`),
    setTheme: (theme) => calls.push(`theme ${theme}`),
    showAbout: () => calls.push('about'),
    showDataLocation: () => calls.push('where'),
    openExternal: (url) => calls.push(`open ${url}`),
  };
  const template = applicationMenuTemplate({ platform, appName: 'CNN Studio', development, theme: 'dark', actions });
  const e = createElectron();
  e.Menu.setApplicationMenu(e.Menu.buildFromTemplate(template));
  return { template, calls, click: (...labels: string[]) => e.standIn.clickMenu(...labels) };
}

const labels = (items: MenuItemConstructorOptions[]) => items.map((i) => i.label ?? i.role ?? i.type);
const sub = (item: MenuItemConstructorOptions | undefined) => labels((item?.submenu ?? []) as MenuItemConstructorOptions[]);

describe('the application menu', () => {
  it('Windows/Linux: File, Edit, View, Window, Help; Quit under File, About under Help', () => {
    const { template } = menu('linux');
    expect(labels(template)).toEqual(['File', 'Edit', 'View', 'Window', 'help']);
    expect(sub(template[0])).toEqual(['Import Dataset Folder…', 'Import Dataset File…', 'Open Data Folder', 'separator', 'Export', 'separator', 'quit']);
    expect(sub(template[4])).toEqual(['Where Is My Data?', 'Open Data Folder', 'separator', 'The ONNX Format', 'View a Model in Netron', 'separator', 'About CNN Studio']);
  });

  it('macOS: the app menu first (About, Services, Hide, Quit), Close under File, the Window menu\'s conventions', () => {
    const { template } = menu('darwin');
    expect(labels(template)).toEqual(['CNN Studio', 'File', 'Edit', 'View', 'Window', 'help']);
    expect(sub(template[0])).toEqual(['About CNN Studio', 'separator', 'services', 'separator', 'hide', 'hideOthers', 'unhide', 'separator', 'quit']);
    expect((template[0]!.submenu as MenuItemConstructorOptions[])[0]!.role).toBe('about');
    expect(sub(template[1])).toContain('close');
    expect(sub(template[1])).not.toContain('quit');
    expect(sub(template[4])).toEqual(['minimize', 'zoom', 'separator', 'front']);
    expect(sub(template[5])).not.toContain('About CNN Studio');
  });

  it('View: themes (the current one checked), zoom, full screen; reload and DevTools only in development', () => {
    const released = sub(menu('linux').template[2]);
    expect(released).toEqual(['Theme', 'separator', 'resetZoom', 'zoomIn', 'zoomOut', 'separator', 'togglefullscreen']);
    expect(sub(menu('linux', true).template[2])).toEqual([...released, 'separator', 'reload', 'forceReload', 'toggleDevTools']);
    const themes = (menu('linux').template[2]!.submenu as MenuItemConstructorOptions[])[0]!.submenu as MenuItemConstructorOptions[];
    expect(themes.map((t) => [t.label, t.type, t.checked])).toEqual([['Follow the System', 'radio', false], ['Light', 'radio', false], ['Dark', 'radio', true]]);
  });

  it('its items call their actions', () => {
    const m = menu('linux');
    m.click('File', 'Import Dataset Folder…');
    m.click('File', 'Import Dataset File…');
    m.click('File', 'Export', 'ONNX Model…');
    m.click('File', 'Export', 'Model JSON + Weights…');
    m.click('File', 'Export', 'Web Page (Self-Contained HTML)…');
    m.click('File', 'Export', 'PyTorch Project…');
    m.click('File', 'Open Data Folder');
    m.click('View', 'Theme', 'Light');
    m.click('help', 'Where Is My Data?');
    m.click('help', 'The ONNX Format');
    m.click('help', 'About CNN Studio');
    expect(m.calls).toEqual(['import folder', 'import file', 'export onnx', 'export json', 'export html', 'export pytorch', 'data folder', 'theme light', 'where', 'open https://onnx.ai/', 'about']);
  });

  it('keyboard: Ctrl/Cmd+O imports a folder, Ctrl/Cmd+E exports ONNX', () => {
    const file = menu('linux').template[0]!.submenu as MenuItemConstructorOptions[];
    expect(file[0]!.accelerator).toBe('CmdOrCtrl+O');
    expect(((file[4]!.submenu as MenuItemConstructorOptions[])[0]!).accelerator).toBe('CmdOrCtrl+E');
  });
});

describe('the about box', () => {
  it('names the app, Electron, Chromium, Node and engine versions, the kernels in use and the data folder', () => {
    const lines = aboutLines({
      appName: 'CNN Studio', appVersion: '0.1.0', versions: { electron: '45.5.0', chrome: '142.0.7444.0', node: '24.11.0' },
      engineVersion: '0.1.0', kernels: 'wasm-relaxed-simd', dataDir: '/home/u/.config/cnn-studio',
    });
    expect(lines).toEqual([
      'CNN Studio 0.1.0', 'Electron 45.5.0', 'Chromium 142.0.7444.0', 'Node 24.11.0', 'Engine 0.1.0',
      'Kernels: wasm-relaxed-simd (fast); reference kept as the oracle', 'Data: /home/u/.config/cnn-studio',
    ]);
    expect(aboutLines({ appName: 'A', appVersion: '1', versions: {}, engineVersion: '1', kernels: 'reference', dataDir: '/d' })[5]).toBe('Kernels: reference (no WebAssembly SIMD here)');
  });

  it('Help › Where Is My Data? says where and how to back it up', () => {
    const { detail } = dataLocationText('/home/u/.config/cnn-studio');
    expect(detail).toMatch(/^\/home\/u\/\.config\/cnn-studio\n/);
    expect(detail).toContain('studio.sqlite');
    expect(detail).toMatch(/back it up, quit CNN Studio and copy the whole folder/);
  });
});
