/**
 * The main window's options, where it opens, and how its place is remembered (shell-settings.json),
 * on the stand-in's BrowserWindow and screen.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import { tempDir } from '../service/testing.js';
import { readSettings, SETTINGS_FILE, writeSettings } from './settings.js';
import { bringToFront, claimSingleInstance } from './single-instance.js';
import { DEFAULT_SIZE, mainWindowOptions, placeWindow, rememberWindowState } from './window.js';

const dir = tempDir('cnn-studio-window-');
afterAll(() => dir.remove());
const SCREEN = { x: 0, y: 0, width: 1920, height: 1040 };
const placement = { width: 1280, height: 800, maximized: false };

describe('window options', () => {
  it('isolate and sandbox the page, keep web security on, and allow DevTools only in development', () => {
    for (const development of [false, true]) {
      const o = mainWindowOptions({ preload: '/app/out/preload/index.cjs', placement, development, title: 'CNN Studio', backgroundColor: '#fff' });
      expect(o.webPreferences).toEqual({
        preload: '/app/out/preload/index.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        devTools: development,
        safeDialogs: true,
        spellcheck: false,
      });
      expect(o.show).toBe(false);
    }
  });

  it('open at the saved place, or centred at the default size when there is none', () => {
    expect(mainWindowOptions({ preload: 'p', placement: { x: 40, y: 30, width: 1000, height: 700, maximized: false }, development: false, title: 't', backgroundColor: '#fff' }))
      .toMatchObject({ x: 40, y: 30, width: 1000, height: 700 });
    const fresh = mainWindowOptions({ preload: 'p', placement: placeWindow(undefined, [SCREEN]), development: false, title: 't', backgroundColor: '#fff' });
    expect(fresh).toMatchObject({ center: true, ...DEFAULT_SIZE });
    expect('x' in fresh).toBe(false);
  });
});

describe('placeWindow', () => {
  it('keeps a saved place that is on a screen', () => {
    expect(placeWindow({ x: 100, y: 50, width: 1100, height: 750, maximized: true }, [SCREEN])).toEqual({ x: 100, y: 50, width: 1100, height: 750, maximized: true });
  });
  it('drops the position of a window whose screen is gone (a monitor unplugged), keeping its size', () => {
    expect(placeWindow({ x: 2500, y: 100, width: 1100, height: 750 }, [SCREEN])).toEqual({ width: 1100, height: 750, maximized: false });
  });
  it('keeps a window that is mostly off-screen only while its title bar can still be grabbed', () => {
    expect(placeWindow({ x: 1800, y: 100, width: 1000, height: 700 }, [SCREEN]).x).toBe(1800);
    expect(placeWindow({ x: 1850, y: 100, width: 1000, height: 700 }, [SCREEN]).x).toBeUndefined();
    expect(placeWindow({ x: 100, y: 1020, width: 1000, height: 700 }, [SCREEN]).x).toBeUndefined();
  });
  it('shrinks a window larger than its screen to fit it', () => {
    expect(placeWindow({ x: 0, y: 0, width: 4000, height: 3000 }, [SCREEN])).toMatchObject({ width: 1920, height: 1040 });
  });
  it('finds the window on a second screen', () => {
    const right = { x: 1920, y: 0, width: 2560, height: 1400 };
    expect(placeWindow({ x: 2200, y: 200, width: 1600, height: 1000 }, [SCREEN, right])).toEqual({ x: 2200, y: 200, width: 1600, height: 1000, maximized: false });
  });
});

describe('remembering the window', () => {
  it('saves its normal bounds and maximized state when it closes; the next window opens there', async () => {
    const e = createElectron({ home: dir.path });
    const win = new e.BrowserWindow({ width: 1280, height: 800 });
    rememberWindowState(win as never, (state) => writeSettings(dir.path, { ...readSettings(dir.path), window: state }));
    win.setBounds({ x: 220, y: 140, width: 1111, height: 777 });
    win.maximize();
    expect(win.close()).toBe(true);
    expect(readSettings(dir.path)).toEqual({ window: { x: 220, y: 140, width: 1111, height: 777, maximized: true } });
    const next = mainWindowOptions({ preload: 'p', placement: placeWindow(readSettings(dir.path).window, e.screen.getAllDisplays().map((d: { workArea: typeof SCREEN }) => d.workArea)), development: false, title: 't', backgroundColor: '#fff' });
    expect(next).toMatchObject({ x: 220, y: 140, width: 1111, height: 777 });
  });

  it('a damaged or hand-edited settings file gives the defaults, not a window at NaN', () => {
    for (const text of ['{not json', JSON.stringify({ window: { x: 'left', y: 0, width: 10, height: 10 } }), JSON.stringify({ window: { x: 0, y: 0, width: 0, height: 10 } }), JSON.stringify({ theme: 'neon' }), '[]']) {
      writeFileSync(join(dir.path, SETTINGS_FILE), text);
      expect(readSettings(dir.path), text).toEqual({});
    }
    expect(readSettings(join(dir.path, 'missing'))).toEqual({});
  });
});

describe('single instance', () => {
  it('the first launch keeps the lock and brings its window forward when a second one starts', () => {
    const e = createElectron();
    const win = new e.BrowserWindow({});
    win.minimize();
    expect(claimSingleInstance(e.app, () => bringToFront(win as never))).toBe(true);
    e.app.emit('second-instance', {}, ['cnn-studio'], '/');
    expect([win.isMinimized(), win.visible, win.focused]).toEqual([false, true, true]);
  });
  it('a second launch quits at once', () => {
    const e = createElectron();
    e.standIn.singleInstanceLock = false;
    expect(claimSingleInstance(e.app, () => undefined)).toBe(false);
    expect(e.standIn.quitCount).toBe(1);
  });
});
