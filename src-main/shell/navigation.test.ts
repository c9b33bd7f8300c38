/**
 * The window stays on the app: navigation and window.open refused, allow-listed https links to the
 * system browser, <webview> refused, every permission denied — on the stand-in's webContents and
 * session, through the same events and handlers Electron calls.
 */
import { describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import { RENDERER_ENTRY_URL } from './app-origin.js';
import { guardNavigation, isAllowedExternalUrl } from './navigation.js';
import { denyAllPermissions } from './permissions.js';

async function guardedWindow() {
  const e = createElectron();
  const refusals: string[] = [];
  e.app.on('web-contents-created', (_event: unknown, contents: never) => guardNavigation(contents, {
    openExternal: (url) => e.shell.openExternal(url),
    refused: (what, url) => refusals.push(`${what} ${url}`),
  }));
  const win = new e.BrowserWindow({});
  await win.loadURL(RENDERER_ENTRY_URL);
  return { e, wc: win.webContents, refusals };
}

describe('navigation', () => {
  it('stays on the app page: elsewhere is refused (will-navigate and will-redirect), in-app addresses are not', async () => {
    const { e, wc, refusals } = await guardedWindow();
    expect(e.standIn.navigate(wc, 'https://evil.example/phish')).toBe(false);
    expect(e.standIn.navigate(wc, 'file:///etc/passwd')).toBe(false);
    expect(e.standIn.navigate(wc, 'http://127.0.0.1:8080/', 'will-redirect')).toBe(false);
    expect(e.standIn.navigate(wc, 'cnn-studio://app/index.html#/train')).toBe(true);
    expect(refusals).toEqual(['navigation https://evil.example/phish', 'navigation file:///etc/passwd', 'navigation http://127.0.0.1:8080/']);
    expect(e.standIn.opened.external).toEqual([]);
  });

  it('a link to an allow-listed https page opens in the system browser instead of the window', async () => {
    const { e, wc } = await guardedWindow();
    expect(e.standIn.navigate(wc, 'https://onnx.ai/')).toBe(false);
    expect(e.standIn.opened.external).toEqual(['https://onnx.ai/']);
  });

  it('window.open is always denied inside the app; allow-listed https goes to the system browser, anything else nowhere', async () => {
    const { e, wc, refusals } = await guardedWindow();
    for (const url of ['https://github.com/onnx/onnx', 'http://github.com/', 'https://github.com.evil.example/', 'https://evil.example/', 'javascript:alert(1)', 'cnn-studio://app/index.html']) {
      expect(e.standIn.openWindow(wc, url), url).toEqual({ action: 'deny' });
    }
    expect(e.standIn.opened.external).toEqual(['https://github.com/onnx/onnx']);
    expect(refusals).toHaveLength(5);
  });

  it('refuses to attach a <webview>', async () => {
    const { wc, refusals } = await guardedWindow();
    let prevented = false;
    wc.emit('will-attach-webview', { preventDefault: () => (prevented = true) }, {}, { src: 'https://evil.example/' });
    expect([prevented, refusals]).toEqual([true, ['webview https://evil.example/']]);
  });

  it('the allow-list: https only, exact host, no credentials, no port', () => {
    expect(isAllowedExternalUrl('https://netron.app/')).toBe(true);
    for (const url of ['http://netron.app/', 'https://sub.netron.app/', 'https://netron.app:8443/', 'https://user@netron.app/', 'ftp://github.com/', 'https://example.com/', '//github.com', 'garbage']) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });
});

describe('permissions', () => {
  it('every request and every check is denied', async () => {
    const e = createElectron();
    const denied: string[] = [];
    denyAllPermissions(e.session.defaultSession, (permission, origin) => denied.push(`${permission} ${origin}`));
    const win = new e.BrowserWindow({});
    await win.loadURL(RENDERER_ENTRY_URL);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'midiSysex', 'openExternal', 'fullscreen', 'hid', 'serial']) {
      expect(await e.standIn.requestPermission(win.webContents, permission), permission).toBe(false);
      expect(e.standIn.checkPermission(win.webContents, permission), permission).toBe(false);
    }
    expect(e.session.defaultSession.devicePermissionHandler({ deviceType: 'usb' })).toBe(false);
    expect(denied[0]).toBe(`media ${RENDERER_ENTRY_URL}`);
    expect(denied).toHaveLength(9);
  });

  it('without the handler the stand-in grants, as Electron does (so the test above can fail)', async () => {
    const e = createElectron();
    const win = new e.BrowserWindow({});
    expect(await e.standIn.requestPermission(win.webContents, 'media')).toBe(true);
  });
});
