/**
 * The desktop flow in real Electron, through Playwright's `_electron`, for machines that have the
 * binary (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH). Where it is missing — our build
 * machines, which cannot download it — this prints "skipped: Electron binary not available" and the
 * rest of the suite runs; the stand-in specs (desktop-shell, desktop-flow) cover the same ground there.
 * Drops are Chromium's own (DevTools drag events with real files), so webUtils.getPathForFile answers
 * from the real File objects; dialogs are answered by replacing dialog.showSaveDialog in the main process.
 */
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from '../tools/start.js';
import { desktopFlow } from './desktop/flow.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(ROOT, 'resources/datasets/fashion-mnist-sample');
const SHOTS = join(ROOT, 'test-results/desktop');
const binary = findElectronBinary(ROOT, process.env);
const SKIPPED = 'skipped: Electron binary not available';

test('Electron binary', () => {
  if (!('path' in binary)) console.log(`${SKIPPED} (${binary.missing})`);
  test.skip(!('path' in binary), SKIPPED);
  expect('path' in binary).toBe(true);
});

test.describe('in Electron', () => {
  test.skip(!('path' in binary), SKIPPED);

  test('desktop flow: drop → import → train → export ONNX → quit while training → relaunch → resume', async () => {
    test.setTimeout(15 * 60_000);
    const home = mkdtempSync(join(tmpdir(), 'cnn-studio-electron-'));
    const env = { ...process.env, CNN_STUDIO_DATA_DIR: join(home, 'library') };
    delete (env as Record<string, string | undefined>).ELECTRON_RUN_AS_NODE;
    const launch = async (): Promise<{ app: ElectronApplication; page: Page; exited: Promise<unknown>; errors: string[] }> => {
      const app = await electron.launch({ executablePath: (binary as { path: string }).path, args: [ROOT], cwd: ROOT, env: env as Record<string, string> });
      const page = await app.firstWindow();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      const exited = new Promise((r) => app.process().once('exit', r));
      return { app, page, exited, errors };
    };
    let current = await launch();
    try {
      mkdirSync(SHOTS, { recursive: true });
      await desktopFlow({
        get page() {
          return current.page;
        },
        beforeDrop: async () => undefined,
        answerSave: (path) => current.app.evaluate(({ dialog }, filePath) => {
          dialog.showSaveDialog = (async () => ({ canceled: false, filePath })) as typeof dialog.showSaveDialog;
        }, path),
        closeWindowAndWait: async () => {
          await current.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
          await current.exited;
        },
        relaunch: async () => {
          current = await launch();
          return current.page;
        },
        pageErrors: async () => current.errors,
      }, {
        sample: SAMPLE,
        exportPath: join(home, 'fashion'),
        shot: (page, name) => page.screenshot({ path: join(SHOTS, `electron-${name}.png`) }).then(() => undefined),
      });
      // the window as Electron made it: the app scheme, and no Node in the page
      expect(await current.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.webContents.getURL())).toMatch(/^cnn-studio:\/\/app\/index\.html/);
      expect(await current.page.evaluate(() => [typeof (globalThis as { require?: unknown }).require, typeof (globalThis as { process?: unknown }).process])).toEqual(['undefined', 'undefined']);
      await current.app.evaluate(({ app }) => app.quit());
      await current.exited;
    } finally {
      if (current.app.process().exitCode === null) current.app.process().kill('SIGKILL');
      rmSync(home, { recursive: true, force: true, maxRetries: 10 });
    }
  });
});
