/**
 * Who may call the main process: only the top frame of one of the app's own windows, showing the
 * app's own page. Anything else — a frame that navigated elsewhere, an iframe, another window or
 * webContents, a frame already gone (senderFrame null) — is refused before its arguments are read.
 */
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { isAppUrl } from './app-origin.js';

export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

/** null when the sender is the app's own; else why not, in one line. */
export type SenderCheck = (event: SenderEvent) => string | null;

export function appSenderCheck(trusted: () => readonly Pick<WebContents, 'id'>[]): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    if (!frame) return 'the calling frame is gone';
    if (!isAppUrl(frame.url)) return `the calling frame is not the app's own page (${frame.url.slice(0, 100) || 'no address'})`;
    if (frame.parent !== null) return 'the call comes from a subframe, not the app window';
    if (!trusted().some((wc) => wc.id === event.sender?.id)) return 'the call comes from a webContents that is not an app window';
    return null;
  };
}
