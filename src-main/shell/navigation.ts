/**
 * The window stays on the app: navigation away is refused, window.open and target=_blank open
 * nothing inside the app, and a link leaves for the system browser only when it is https: to a host
 * on the allow-list. <webview> cannot be attached. Electron objects come in as parameters.
 */
import type { Event, HandlerDetails, WebContents, WindowOpenHandlerResponse } from 'electron';
import { isAppUrl } from './app-origin.js';

/** Hosts a link may open in the system browser (exact names: no subdomains, no other ports). */
export const EXTERNAL_HOSTS: readonly string[] = ['github.com', 'onnx.ai', 'netron.app', 'www.electronjs.org'];

/** True for https://<allow-listed host>/… without credentials or an explicit port. */
export function isAllowedExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.port === '' && u.username === '' && u.password === '' && hosts.includes(u.hostname);
}

type WebContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

export interface NavigationGuardOptions {
  /** shell.openExternal */
  openExternal(url: string): Promise<void> | void;
  /** Told about every refusal (the shell logs them). */
  refused?(what: 'navigation' | 'window' | 'webview', url: string): void;
  hosts?: readonly string[];
}

/** Opens `url` in the system browser if it is allowed; answers whether it did. */
export function openExternalIfAllowed(url: string, o: NavigationGuardOptions): boolean {
  if (!isAllowedExternalUrl(url, o.hosts)) return false;
  void Promise.resolve(o.openExternal(url)).catch(() => undefined);
  return true;
}

export function guardNavigation(contents: WebContentsLike, o: NavigationGuardOptions): void {
  const refuseUnlessApp = (event: Event, url: string) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    // a plain link click to an allowed page: the system browser instead
    if (!openExternalIfAllowed(url, o)) o.refused?.('navigation', url);
  };
  contents.on('will-navigate', (event, url) => refuseUnlessApp(event, url));
  contents.on('will-redirect', (event, url) => refuseUnlessApp(event, url));
  contents.on('will-attach-webview', (event, _prefs, params) => {
    event.preventDefault();
    o.refused?.('webview', params.src);
  });
  contents.setWindowOpenHandler((details: HandlerDetails): WindowOpenHandlerResponse => {
    if (!openExternalIfAllowed(details.url, o)) o.refused?.('window', details.url);
    return { action: 'deny' };
  });
}
