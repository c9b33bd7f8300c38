/**
 * The test's side of the stand-in desktop app (e2e/electron-stand-in/launch-app.mjs): starts the
 * built app as its own process, connects to its window's page over the DevTools protocol, and plays
 * the user and the OS through the fork channel (dialog answers, menu clicks, the close button).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.js';

const STAND_IN = fileURLToPath(new URL('../electron-stand-in/', import.meta.url));
export const OUT_DIR = fileURLToPath(new URL('../../out/', import.meta.url));

type AppEvent = { event: string } & Record<string, unknown>;

export interface StandInState {
  dialogs: { kind: string; title: string }[];
  opened: { external: string[]; paths: string[]; revealed: string[] };
  errorBoxes: { title: string; content: string }[];
  pageErrors: string[];
  aboutPanel: unknown;
  menu: string[];
  windows: { bounds: { x: number; y: number; width: number; height: number }; visible: boolean; focused: boolean; url: string; options: Record<string, unknown> }[];
  userData: string;
  themeSource: string;
}

export class StandInApp {
  readonly events: AppEvent[] = [];
  readonly exited: Promise<number | null>;
  page!: Page;
  private browser: Browser | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private waiters: { match: (e: AppEvent) => boolean; resolve: (e: AppEvent) => void }[] = [];
  output = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; value?: unknown; error?: string } & Partial<AppEvent>) => {
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.value);
        return;
      }
      const event = m as AppEvent;
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
    });
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  /** Starts the built app with `home` as the user's home; resolves once its window shows the page. */
  static async launch(home: string): Promise<StandInApp> {
    const child = fork(`${STAND_IN}launch-app.mjs`, [OUT_DIR], {
      execArgv: ['--import', `${STAND_IN}register.mjs`],
      env: { ...process.env, CNN_STUDIO_STAND_IN_HOME: home, CHROMIUM_PATH, CNN_STUDIO_CHROMIUM_ARGS: JSON.stringify(CHROMIUM_ARGS) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const app = new StandInApp(child);
    const window = await Promise.race([
      app.nextEvent('window'),
      app.exited.then((code) => { throw new Error(`the app exited (code ${code}) before showing its window:\n${app.output}`); }),
    ]);
    app.browser = await chromium.connectOverCDP(window.cdpUrl as string);
    const page = app.browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === window.pageUrl);
    if (!page) throw new Error(`no page at ${String(window.pageUrl)} in the app's browser`);
    app.page = page;
    return app;
  }

  /** The first event of this kind from now on (or already seen, if `seen` says which count as seen). */
  nextEvent(kind: string, match: (e: AppEvent) => boolean = () => true): Promise<AppEvent> {
    return new Promise((resolve) => this.waiters.push({ match: (e) => e.event === kind && match(e), resolve }));
  }

  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, ...args });
    });
  }

  answer(kind: 'open' | 'save' | 'message', value: unknown): Promise<void> {
    return this.request('answer', { kind, value });
  }

  menu(...labels: string[]): Promise<void> {
    return this.request('menu', { labels });
  }

  state(): Promise<StandInState> {
    return this.request<StandInState>('state');
  }

  /** Presses the window's close button and waits for the process to exit (the quit sequence runs first). */
  async closeWindowAndWait(): Promise<number | null> {
    const quit = this.nextEvent('quit');
    await this.request('closeWindow');
    await quit;
    await this.browser?.close().catch(() => undefined);
    return this.exited;
  }

  /**
   * For cleanup after a failure: end the process, and its window's Chromium with it. That browser is
   * the app process's child: a SIGKILL of the app alone leaves it running, still writing its profile
   * in the test's home (whose removal then fails and hides the test's own error), so it is asked to
   * close over CDP and waited for until it is gone.
   */
  async kill(): Promise<void> {
    let browserPid: number | null = null;
    if (this.browser?.isConnected()) {
      try {
        const cdp = await this.browser.newBrowserCDPSession();
        const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
        browserPid = info.processInfo.find((p) => p.type === 'browser')?.id ?? null;
        await cdp.send('Browser.close');
      } catch {
        // already closing
      }
    }
    await this.browser?.close().catch(() => undefined);
    if (this.child.exitCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    if (browserPid !== null) await gone(browserPid);
  }
}

/** Resolves once the process has exited (a zombie waiting for its reaper counts as exited). */
async function gone(pid: number): Promise<void> {
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (running()) await new Promise((r) => setTimeout(r, 50));
}
