/**
 * The built desktop app on the Electron stand-in (e2e/electron-stand-in/launch-app.mjs): the built
 * main bundle in its own process, its window a page in Debian's Chromium that loads the built
 * renderer from the app scheme, with the built preload's API bridged in. Here: what the shell
 * guarantees to the page — the CSP header in force, navigation refused, only the app's own frame
 * heard by the main process, the menu, the window's place across launches, a second instance.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandInApp } from './desktop/stand-in-app.js';

test.describe.configure({ mode: 'serial' });

const home = mkdtempSync(join(tmpdir(), 'cnn-studio-desktop-shell-'));
let app: StandInApp | null = null;

test.afterAll(async () => {
  await app?.kill();
  // Chromium may still be writing its profile as the app's process goes: retry a busy folder
  rmSync(home, { recursive: true, force: true, maxRetries: 10 });
});

test('the built renderer runs in the window under the CSP header, with the preload\'s two APIs and nothing else', async () => {
  app = await StandInApp.launch(home);
  const page = app.page;
  await expect(page.getByRole('heading', { name: 'Datasets' })).toBeVisible();
  await expect(page.getByText('Fashion-MNIST sample').first()).toBeVisible();

  const apis = await page.evaluate(() => ({
    studio: Object.keys((window as unknown as { cnnStudio?: object }).cnnStudio ?? {}).sort(),
    shell: Object.keys((window as unknown as { cnnStudioShell?: object }).cnnStudioShell ?? {}).sort(),
    ipc: 'ipcRenderer' in window || 'require' in window || 'process' in window,
  }));
  expect(apis.studio).toContain('startRun');
  expect(apis.shell).toEqual(['chooseImportPaths', 'on', 'openDataFolder', 'pathForFile', 'revealPath', 'saveExport']);
  expect(apis.ipc).toBe(false);

  // The app scheme's header carries the policy, and Chromium enforces it: stricter than the page's
  // own meta tag (which allows inline styles and 127.0.0.1), so what is refused here is the header's doing.
  const csp = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
    const header = (await fetch(location.href)).headers.get('content-security-policy');
    const style = document.createElement('style');
    style.textContent = 'body { outline: 7px solid rgb(255, 0, 0) !important; }';
    document.head.append(style);
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true';
    document.head.append(script);
    await fetch('http://127.0.0.1:9/').catch(() => undefined);
    const img = new Image();
    img.src = 'https://example.com/pixel.png';
    await new Promise((r) => { img.onerror = r; img.onload = r; });
    await new Promise((r) => setTimeout(r, 0)); // violations are reported as tasks
    return { header, outline: getComputedStyle(document.body).outlineWidth, inline: '__inlineRan' in window, violations: violations.sort() };
  });
  expect(csp.header).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'");
  expect(csp.outline).not.toBe('7px');
  expect(csp.inline).toBe(false);
  // each policy reports its own refusals: a remote image and an inline script are refused by both,
  // an inline style and a connection to 127.0.0.1 by the header alone
  expect(csp.violations).toEqual(['connect-src', 'img-src', 'img-src', 'script-src-elem', 'script-src-elem', 'style-src-elem']);
  const state = await app.state();
  expect(state.pageErrors.filter((e) => !/Content Security Policy|Refused to/.test(e))).toEqual([]);
  await page.screenshot({ path: 'test-results/desktop/shell-01-launched.png' });
});

test('navigation away is refused; an allow-listed https link goes to the system browser instead', async () => {
  const page = app!.page;
  const before = page.url();
  for (const href of ['https://evil.example/phish', 'https://onnx.ai/']) {
    await page.evaluate((h) => {
      const a = document.createElement('a');
      a.href = h;
      a.textContent = 'link';
      document.body.append(a);
      a.click();
      a.remove();
    }, href);
  }
  await expect.poll(async () => (await app!.state()).opened.external).toEqual(['https://onnx.ai/']);
  expect(page.url()).toBe(before);
  await expect(page.getByRole('heading', { name: 'Datasets' })).toBeVisible();
});

test('the main process answers only the app\'s own frame: a forged sender gets an error as data from the built handlers', async () => {
  const forged = await app!.request('invokeAs', { from: { url: 'https://evil.example/' }, channel: 'cnn-studio:command:listDatasets', args: [{}] });
  expect(forged).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  const subframe = await app!.request('invokeAs', { from: { url: 'cnn-studio://app/index.html', parent: {} }, channel: 'cnn-studio:shell:openDataFolder', args: [{}] });
  expect(subframe).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  const malformed = await app!.request('invokeAs', { from: { url: 'cnn-studio://app/index.html' }, channel: 'cnn-studio:shell:saveExport', args: [{ runId: 1, format: 'onnx', path: '/etc/passwd' }] });
  expect(malformed).toMatchObject({ ok: false, error: { code: 'bad_request', detail: { field: 'path' } } });
  expect((await app!.state()).dialogs).toEqual([]);
});

test('the menu: File, Edit, View, Window, Help; Where Is My Data? names the data folder and opens it; About lists the versions and kernels; View › Theme', async () => {
  const state = await app!.state();
  expect(state.menu).toEqual(['File', 'Edit', 'View', 'Window', 'help']);
  await app!.answer('message', { response: 0 });
  const shown = app!.nextEvent('dialog', (e) => e.kind === 'message');
  await app!.menu('help', 'Where Is My Data?');
  expect((await shown).title).toBe('Where Is My Data?');
  await expect.poll(async () => (await app!.state()).opened.paths).toEqual([state.userData]);
  expect(state.userData).toBe(join(home, 'appData', 'cnn-studio'));

  await app!.answer('message', { response: 0 });
  const about = app!.nextEvent('dialog', (e) => e.kind === 'message');
  await app!.menu('help', 'About CNN Studio');
  const box = await about;
  expect(box.message).toBe('CNN Studio 0.0.0-stand-in');
  // the stand-in is plain Node: Electron and Chromium have no version here, and say so
  expect(String(box.detail).split('\n')).toEqual([
    'Electron unknown', 'Chromium unknown', `Node ${process.versions.node}`, 'Engine 0.1.0',
    expect.stringMatching(/^Kernels: wasm-(relaxed-)?simd \(fast\); reference kept as the oracle$/), `Data: ${state.userData}`,
  ]);

  await app!.menu('View', 'Theme', 'Dark');
  expect((await app!.state()).themeSource).toBe('dark');
});

test('the window opens where it was left, in the theme chosen; a second launch brings it to the front', async () => {
  await app!.request('setBounds', { bounds: { x: 160, y: 90, width: 1200, height: 780 } });
  expect(await app!.closeWindowAndWait()).toBe(0);
  app = await StandInApp.launch(home);
  const { windows: [win], themeSource } = await app.state();
  expect(win!.options).toMatchObject({ x: 160, y: 90, width: 1200, height: 780 });
  expect(themeSource).toBe('dark');
  expect(win!.focused).toBe(false);
  await app.request('secondInstance');
  expect((await app.state()).windows[0]!.focused).toBe(true);
  expect(await app.closeWindowAndWait()).toBe(0);
  app = null;
});
