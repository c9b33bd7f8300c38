/**
 * Quitting pauses running trainings and snapshots them before the window closes, so the next launch
 * shows them paused with Resume (not "interrupted"). Whatever starts the quit — the menu, Cmd+Q,
 * the window's close button on Windows/Linux, the OS logging out — the first attempt is held back,
 * the shutdown runs once, and then the app quits for real. On macOS closing the window keeps the app
 * (and its trainings) running in the dock, as Mac apps do; quitting does the same as elsewhere.
 */
import type { App, BrowserWindow, Event } from 'electron';

export type QuitPhase = 'open' | 'shutting-down' | 'closed';

export interface QuitDeps {
  app: Pick<App, 'on' | 'quit'>;
  platform: NodeJS.Platform;
  /** Pauses running trainings (each snapshots at the end of its batch) and closes the library. */
  shutdown(): Promise<void>;
  /** Runs training now: told to the page ("pausing 2 trainings…") as the shutdown starts. */
  trainingCount(): number;
  /** Tells the page the app is quitting. */
  announce(trainings: number): void;
  log(message: string): void;
}

export class QuitSequence {
  #phase: QuitPhase = 'open';
  #quitRequested = false;
  readonly #deps: QuitDeps;
  /** Resolves once the shutdown has finished (whether it succeeded or not). */
  readonly finished: Promise<void>;
  #finish!: () => void;

  constructor(deps: QuitDeps) {
    this.#deps = deps;
    this.finished = new Promise((r) => (this.#finish = r));
    deps.app.on('before-quit', (event) => {
      this.#quitRequested = true;
      this.#hold(event);
    });
    deps.app.on('window-all-closed', () => {
      if (deps.platform !== 'darwin') deps.app.quit();
    });
  }

  get phase(): QuitPhase {
    return this.#phase;
  }

  /** The window's close button: on Windows/Linux it quits the app (after the shutdown). */
  watch(win: Pick<BrowserWindow, 'on'>): void {
    win.on('close', (event) => {
      if (this.#deps.platform === 'darwin' && !this.#quitRequested) return;
      this.#hold(event);
    });
  }

  #hold(event: Pick<Event, 'preventDefault'>): void {
    if (this.#phase === 'closed') return;
    event.preventDefault();
    if (this.#phase === 'open') void this.#shutDown();
  }

  async #shutDown(): Promise<void> {
    this.#phase = 'shutting-down';
    const trainings = this.#deps.trainingCount();
    this.#deps.log(trainings ? `quitting: pausing ${trainings} training run${trainings === 1 ? '' : 's'} and snapshotting ${trainings === 1 ? 'it' : 'them'}` : 'quitting');
    try {
      this.#deps.announce(trainings);
    } catch {
      // the page may be gone already; the shutdown does not depend on it
    }
    try {
      await this.#deps.shutdown();
    } catch (e) {
      this.#deps.log(`quitting: the shutdown failed: ${(e as Error).message}`);
    }
    this.#phase = 'closed';
    this.#finish();
    this.#deps.app.quit();
  }
}
