/**
 * The main window: its options (every web preference that matters for security stated, not left to
 * defaults), where it opens (the last size and position, if that is still on a screen) and how its
 * state is remembered (at close, from the normal — not maximized — bounds).
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, Rectangle } from 'electron';
import type { SavedWindow } from './settings.js';

export const DEFAULT_SIZE = { width: 1280, height: 800 } as const;
export const MIN_SIZE = { width: 900, height: 600 } as const;
/** How much of a saved window must still be on a screen to open there: enough to grab its title bar. */
export const MIN_VISIBLE = { width: 120, height: 40 } as const;

export interface WindowPlacement {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

function overlap(a: Rectangle, b: Rectangle): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/** The saved placement when it is on one of the screens' work areas (shrunk to fit it), else the default size, centred. */
export function placeWindow(saved: SavedWindow | undefined, workAreas: readonly Rectangle[]): WindowPlacement {
  if (!saved) return { ...DEFAULT_SIZE, maximized: false };
  const maximized = saved.maximized ?? false;
  const area = workAreas.find((a) => {
    const o = overlap(saved, a);
    return o.width >= Math.min(MIN_VISIBLE.width, saved.width) && o.height >= Math.min(MIN_VISIBLE.height, saved.height);
  });
  if (!area) {
    // the screen it was on is gone (a monitor unplugged): its size, on the primary screen, centred
    const primary = workAreas[0];
    return { width: primary ? Math.min(saved.width, primary.width) : saved.width, height: primary ? Math.min(saved.height, primary.height) : saved.height, maximized };
  }
  const width = Math.max(Math.min(saved.width, area.width), Math.min(MIN_SIZE.width, area.width));
  const height = Math.max(Math.min(saved.height, area.height), Math.min(MIN_SIZE.height, area.height));
  return { x: saved.x, y: saved.y, width, height, maximized };
}

export interface MainWindowOptionsInput {
  /** The built preload (CommonJS). */
  preload: string;
  placement: WindowPlacement;
  /** Development build: DevTools allowed. Never in a packaged app. */
  development: boolean;
  title: string;
  icon?: string;
  backgroundColor: string;
}

export function mainWindowOptions(o: MainWindowOptionsInput): BrowserWindowConstructorOptions {
  const { x, y, width, height } = o.placement;
  return {
    ...(x !== undefined && y !== undefined ? { x, y } : { center: true }),
    width,
    height,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: o.title,
    ...(o.icon ? { icon: o.icon } : {}),
    backgroundColor: o.backgroundColor,
    // shown at ready-to-show: no white flash, and no window before the page can answer
    show: false,
    webPreferences: {
      preload: o.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // a file dropped outside the page's drop zone must not replace the app with the file
      navigateOnDragDrop: false,
      devTools: o.development,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

type WindowLike = Pick<BrowserWindow, 'on' | 'getNormalBounds' | 'isMaximized'>;

/** Saves the window's normal bounds (and whether it was maximized) each time it is asked to close (the last one counts). */
export function rememberWindowState(win: WindowLike, save: (state: SavedWindow) => void): void {
  win.on('close', () => {
    const b = win.getNormalBounds();
    save({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height), maximized: win.isMaximized() });
  });
}
