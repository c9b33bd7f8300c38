/**
 * Picks the renderer's transport, once, when the page starts (main.ts): the Electron preload's
 * `window.cnnStudio`, or HTTP + WebSocket back to the page's own origin with this start's token.
 */
import { ConnectionRelay, createClient, createWebApi, type Client } from './api.js';

const TOKEN_KEY = 'cnn-studio-token';

/** The token from ?token=… (kept for reloads in sessionStorage and taken out of the address bar). */
function pageToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function connectClient(): Client {
  if (window.cnnStudio) return createClient(window.cnnStudio, { transport: 'electron', hasToken: true });
  const token = pageToken();
  const base = new URL('./', window.location.href);
  base.search = '';
  base.hash = '';
  const connection = new ConnectionRelay('connecting');
  return createClient(createWebApi(base, token, (s) => connection.set(s)), { transport: 'web', hasToken: token !== null, connection });
}
