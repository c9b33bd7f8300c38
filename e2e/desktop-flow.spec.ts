/**
 * The desktop flow on the Electron stand-in: the built app as a process, its window a page in
 * Debian's Chromium with the built preload's API (e2e/electron-stand-in/). Drop the sample's folder
 * on the window, train an epoch, export ONNX through the save dialog (the file is then run in
 * onnxruntime), quit while a second run trains, relaunch, find it paused, resume it. Screenshots of
 * each step at 1280×800 and 1024×700: test-results/desktop/flow-<step>-<size>.png.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { desktopFlow, type DesktopDriver } from './desktop/flow.js';
import { StandInApp } from './desktop/stand-in-app.js';

const SAMPLE = fileURLToPath(new URL('../resources/datasets/fashion-mnist-sample', import.meta.url));
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 700 }];
const SHOTS = fileURLToPath(new URL('../test-results/desktop/', import.meta.url));

test('desktop flow on the stand-in: drop → import → train → export ONNX → quit while training → relaunch → resume', async () => {
  test.setTimeout(15 * 60_000);
  const home = mkdtempSync(join(tmpdir(), 'cnn-studio-desktop-flow-'));
  const saves = join(home, 'Documents', 'models');
  mkdirSync(saves, { recursive: true });
  const exportPath = join(saves, 'fashion');
  let app = await StandInApp.launch(home);
  try {
    const driver: DesktopDriver = {
      get page() {
        return app.page;
      },
      beforeDrop: (paths) => app.request('dropPaths', { paths }),
      answerSave: (path) => app.answer('save', { canceled: false, filePath: path }),
      closeWindowAndWait: async () => {
        expect(await app.closeWindowAndWait()).toBe(0);
        expect(app.output).toMatch(/quitting: pausing 1 training run and snapshotting it/);
      },
      relaunch: async () => {
        app = await StandInApp.launch(home);
        return app.page;
      },
      pageErrors: async () => (await app.state()).pageErrors,
    };
    mkdirSync(SHOTS, { recursive: true });
    // each step at the two window sizes the views are checked at; the window's own size is put back after
    const shot = async (page: Page, name: string, focus?: Locator) => {
      const own = page.viewportSize();
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await focus?.scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `flow-${name}-${size.width}x${size.height}.png`) });
      }
      if (own) await page.setViewportSize(own);
    };
    // the save dialog gets a name without extension: the app adds .onnx
    await desktopFlow(driver, { sample: SAMPLE, exportPath, shot });

    const session = await ort.InferenceSession.create(`${exportPath}.onnx`);
    const output = await session.run({ input: new ort.Tensor('float32', new Float32Array(28 * 28), [1, 28, 28, 1]) });
    const probabilities = output.probabilities!;
    expect(probabilities.dims).toEqual([1, 10]);
    expect([...(probabilities.data as Float32Array)].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await app.closeWindowAndWait();
  } finally {
    await app.kill();
    rmSync(home, { recursive: true, force: true, maxRetries: 10 });
  }
});
