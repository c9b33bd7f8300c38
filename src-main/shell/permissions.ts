/**
 * Every permission is denied: the studio needs no camera, microphone, notifications, geolocation,
 * clipboard reading, MIDI, HID, USB or serial device — and says no before Chromium would ask.
 */
import type { Session } from 'electron';

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>;

export function denyAllPermissions(session: SessionLike, refused?: (permission: string, origin: string) => void): void {
  session.setPermissionRequestHandler((contents, permission, callback) => {
    refused?.(permission, contents.getURL());
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
