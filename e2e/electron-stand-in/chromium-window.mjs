/**
 * A real page for the stand-in's BrowserWindow: Debian's Chromium through Playwright, in the app's
 * own process, the way Electron gives a window its renderer.
 *  - The app scheme is served over a loopback HTTP port by the handler the app registered with
 *    protocol.handle, headers (the CSP) and all; the window's webContents keeps the app address
 *    (cnn-studio://app/…), which is what the main process's sender checks see.
 *  - The preload runs in Node against the stand-in (the built out/preload/index.cjs), and the page
 *    gets the same object shapes as window.cnnStudio / window.cnnStudioShell from an init script:
 *    each function call goes through a Playwright binding to the preload's function (and so through
 *    the stand-in's ipcRenderer to the real ipcMain handlers), events come back with page.evaluate.
 *  - A File handed to the shell API crosses as { name, path }: the page-side registry
 *    window.__standIn.setFilePath(file, path) is how a test says where a dropped file lives, and
 *    the stand-in's webUtils.getPathForFile answers with it.
 *  - Main-frame navigations go through the webContents' will-navigate listeners first, and stay
 *    where they are when one prevents them, as in Electron.
 * The browser listens on a DevTools port too (DevToolsActivePort in its profile), so the test
 * process can look at the same page with chromium.connectOverCDP.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const BINDING = '__standInIpc';

/** Runs in the page before its scripts: the API objects, functions forwarding to the binding. */
function installBridge({ apis, binding }) {
  const listeners = new Map();
  const filePaths = new WeakMap();
  let nextId = 1;
  window.__standIn = {
    setFilePath: (file, path) => void filePaths.set(file, path),
    dispatch: (id, payload) => listeners.get(id)?.(payload),
  };
  const encode = (arg) => (arg instanceof File ? { __standInFile: true, name: arg.name, path: filePaths.get(arg) ?? null } : arg);
  for (const [key, names] of Object.entries(apis)) {
    const api = {};
    for (const name of names) {
      api[name] = name === 'on'
        ? (event, listener) => {
          const id = nextId++;
          listeners.set(id, listener);
          void window[binding]({ key, subscribe: event, id });
          return () => {
            listeners.delete(id);
            void window[binding]({ key, unsubscribe: id });
          };
        }
        : (...args) => window[binding]({ key, call: name, args: args.map(encode) });
    }
    // like contextBridge: a frozen object the page cannot replace
    Object.defineProperty(window, key, { value: Object.freeze(api), writable: false, configurable: false });
  }
}

export function chromiumWindowHost({ standIn, loadPreload, instance, executablePath = '/usr/bin/chromium', args = [], profileDir, onWindow = () => {} }) {
  let context = null;
  let server = null;
  let origin = '';
  const pages = new Map();
  const toHttp = (url) => url.replace(/^cnn-studio:\/\/app/, origin);
  const toApp = (url) => (url.startsWith(origin) ? `cnn-studio://app${url.slice(origin.length)}` : url);

  async function serveAppScheme() {
    server = createServer(async (req, res) => {
      try {
        const response = await standIn.fetch(`cnn-studio://app${req.url}`, { method: req.method });
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${server.address().port}`;
  }

  return {
    pageErrors: [],
    async open(win, url) {
      if (!server) await serveAppScheme();
      if (!context) {
        context = await chromium.launchPersistentContext(profileDir, {
          executablePath, headless: true, args: [...args, '--remote-debugging-port=0'],
          viewport: { width: win.bounds.width, height: win.bounds.height },
        });
      }
      const world = await loadPreload(win.options.webPreferences.preload, instance);
      const page = pages.get(win) ?? context.pages().find((p) => ![...pages.values()].includes(p)) ?? (await context.newPage());
      if (!pages.has(win)) {
        pages.set(win, page);
        const subscriptions = new Map();
        await page.exposeBinding(BINDING, async (_source, msg) => {
          const api = standIn.world[msg.key];
          if (!api) throw new Error(`the preload exposed no ${msg.key}`);
          if (msg.call) {
            const decoded = msg.args.map((a) => (a && a.__standInFile ? { name: a.name, path: a.path ?? undefined } : a));
            return api[msg.call](...decoded);
          }
          if (msg.subscribe) {
            subscriptions.set(msg.id, api.on(msg.subscribe, (payload) => {
              void page.evaluate(([id, p]) => window.__standIn.dispatch(id, p), [msg.id, payload]).catch(() => undefined);
            }));
          }
          if (msg.unsubscribe) {
            subscriptions.get(msg.unsubscribe)?.();
            subscriptions.delete(msg.unsubscribe);
          }
          return null;
        });
        await page.addInitScript(installBridge, { binding: BINDING, apis: Object.fromEntries(Object.entries(world).map(([k, api]) => [k, Object.keys(api)])) });
        await page.route(() => true, (route) => {
          const request = route.request();
          if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
            const target = toApp(request.url());
            // refused: a 204 answer leaves the page where it is, as a prevented will-navigate does (an abort would show an error page)
            if (target !== win.webContents.url && !standIn.navigate(win.webContents, target)) return route.fulfill({ status: 204 });
          }
          return route.continue();
        });
        page.on('console', (m) => {
          if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) this.pageErrors.push(m.text());
        });
        page.on('pageerror', (e) => this.pageErrors.push(String(e)));
        await page.setViewportSize({ width: win.bounds.width, height: win.bounds.height });
      }
      await page.goto(toHttp(url));
      const port = readFileSync(join(profileDir, 'DevToolsActivePort'), 'utf8').split('\n')[0];
      onWindow({ cdpUrl: `http://127.0.0.1:${port}`, pageUrl: page.url(), appUrl: url });
    },
    async close(win) {
      const page = pages.get(win);
      pages.delete(win);
      await page?.close().catch(() => undefined);
    },
    async closeAll() {
      await context?.close().catch(() => undefined);
      await new Promise((r) => (server ? server.close(r) : r()));
      context = null;
      server = null;
    },
  };
}
