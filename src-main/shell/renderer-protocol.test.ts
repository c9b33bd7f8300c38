/**
 * The renderer on the app scheme: every response carries the strict CSP header; nothing outside the
 * renderer folder, no other host, no method but GET/HEAD. Served through the stand-in's protocol
 * registry exactly as protocol.handle would call it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import { tempDir } from '../service/testing.js';
import { APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, isAppUrl, RENDERER_ENTRY_URL } from './app-origin.js';
import { CONTENT_SECURITY_POLICY, CSP_DIRECTIVES } from './csp.js';
import { rendererRequestHandler } from './renderer-protocol.js';

const dir = tempDir('cnn-studio-protocol-');
const renderer = join(dir.path, 'renderer');
const e = createElectron({ home: dir.path });

beforeAll(() => {
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir.path, 'secret.txt'), 'not for pages');
  e.protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  e.protocol.handle(APP_SCHEME, rendererRequestHandler(renderer));
});
afterAll(() => dir.remove());

describe('the Content-Security-Policy', () => {
  it('allows only the app itself: no inline or eval\'d script, no remote origin, no plugins, frames or forms', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    );
    const sources = Object.values(CSP_DIRECTIVES).flat();
    for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", '*', 'http:', 'https:', 'ws:', 'blob:']) expect(sources).not.toContain(unsafe);
    expect(sources.every((s) => s.startsWith("'") || s === 'data:')).toBe(true);
  });

  it.each([['the page', '/index.html', 200], ['a script', '/assets/app.js', 200], ['the root', '/', 200], ['a missing file', '/nope.js', 404]])(
    'is the header of every response: %s', async (_what, path, status) => {
      const r = await e.standIn.fetch(APP_ORIGIN + path);
      expect(r.status).toBe(status);
      expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    });
});

describe('the app scheme', () => {
  it('is registered privileged (standard, secure) and serves the built files with their types', async () => {
    expect(e.standIn.privilegedSchemes).toEqual([{ scheme: 'cnn-studio', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    const page = await e.standIn.fetch(RENDERER_ENTRY_URL);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('assets/app.js');
    const script = await e.standIn.fetch(`${APP_ORIGIN}/assets/app.js`);
    expect([script.headers.get('content-type'), await script.text()]).toEqual(['text/javascript; charset=utf-8', 'console.log(1)']);
    expect(await (await e.standIn.fetch(RENDERER_ENTRY_URL, { method: 'HEAD' })).text()).toBe('');
  });

  it.each([
    // the URL parser folds %2e%2e like .., inside the root: /secret.txt there does not exist
    ['an escaped ..', `${APP_ORIGIN}/%2e%2e/secret.txt`, 404],
    ['an encoded slash and ..', `${APP_ORIGIN}/assets%2f..%2f..%2fsecret.txt`, 403],
    ['another host', `${APP_SCHEME}://elsewhere/index.html`, 404],
    ['a malformed escape', `${APP_ORIGIN}/%E0%A4%A`, 400],
  ])('refuses %s', async (_what, url, status) => {
    const r = await e.standIn.fetch(url);
    expect(r.status).toBe(status);
    expect(await r.text()).not.toContain('not for pages');
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await e.standIn.fetch(RENDERER_ENTRY_URL, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('tells app addresses from others', () => {
    expect(isAppUrl(RENDERER_ENTRY_URL)).toBe(true);
    expect(isAppUrl(`${APP_ORIGIN}/index.html#/train`)).toBe(true);
    for (const other of ['https://app/', 'cnn-studio://evil/index.html', 'cnn-studio://user:pw@app/', 'file:///index.html', 'not a url', '']) expect(isAppUrl(other), other).toBe(false);
  });
});
