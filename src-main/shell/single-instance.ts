/**
 * One app per user: a second launch hands over to the first (which brings its window to the front)
 * and quits. Two processes writing one library would fight over its runs.
 */
import type { App, BrowserWindow } from 'electron';

/** False when another instance holds the lock: this one quits. */
export function claimSingleInstance(app: Pick<App, 'requestSingleInstanceLock' | 'on' | 'quit'>, focus: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => focus());
  return true;
}

export function bringToFront(win: Pick<BrowserWindow, 'isMinimized' | 'restore' | 'show' | 'focus'>): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
