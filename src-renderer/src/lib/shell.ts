/**
 * The desktop shell's API (src-main/contract/shell.ts), when the page runs in the desktop app: the
 * preload exposes it as `window.cnnStudioShell` beside `window.cnnStudio`. In a browser there is
 * none, and the UI uploads what is dropped and downloads what is exported instead.
 */
import type { ShellApi } from '../../../src-main/contract/shell.js';

export type { ExportFormat, ShellApi, ShellEventName, ShellEvents } from '../../../src-main/contract/shell.js';

declare global {
  interface Window {
    cnnStudioShell?: ShellApi;
  }
}

export function connectShell(): ShellApi | null {
  return typeof window !== 'undefined' && window.cnnStudioShell ? window.cnnStudioShell : null;
}
