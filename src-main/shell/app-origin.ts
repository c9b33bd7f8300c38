/**
 * Where the renderer lives in the desktop app: a privileged custom scheme served by the main process
 * (renderer-protocol.ts), not file:// — so every response carries the Content-Security-Policy header,
 * the page has an origin of its own, and a sender check has one origin to compare against.
 */
export const APP_SCHEME = 'cnn-studio';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const RENDERER_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** For protocol.registerSchemesAsPrivileged (before app ready): standard + secure, so it behaves like https. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
} as const;

/** A URL of the app's own renderer (nothing else is trusted to call the main process or be navigated to). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
