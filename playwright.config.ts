/**
 * End-to-end tests of the renderer against the real backend: e2e/global-setup.ts builds the
 * renderer when it is missing or older than its sources, starts `src-main/web/main.ts` on a
 * temporary database and a random port, and stops it afterwards. Debian's Chromium, never a
 * downloaded browser (`playwright install` is not needed).
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/chromium.js';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  globalSetup: './e2e/global-setup.ts',
  // One backend and two cores: the specs share its runs, so they run in order.
  workers: 1,
  fullyParallel: false,
  // A cap for a loaded machine (waits on work use e2e/studio.ts WORK); a passing test ends as soon as its states are there.
  timeout: 300_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
