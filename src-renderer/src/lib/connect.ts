/**
 * Picks the renderer's transport, once, when the page starts (main.ts): the Electron preload's
 * `window.cnnStudio` (and the shell's `window.cnnStudioShell`), or HTTP + WebSocket back to the
 * page's own origin with the server's token (and uploads for what is dropped).
 */
import { ConnectionRelay, createClient, createWebApi, type Client, type StreamControl } from './api.js';
import { connectShell, type ShellApi } from './shell.js';
import { createUploader, type Uploader } from './upload.js';

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

export interface Connection {
  client: Client;
  /** The desktop shell's API (dialogs, dropped files' paths, exports written by the app), in Electron. */
  shell: ShellApi | null;
  /** How dropped files reach the server, in a browser. */
  uploader: Uploader | null;
}

export function connect(): Connection {
  if (window.cnnStudio) return { client: createClient(window.cnnStudio, { transport: 'electron', hasToken: true }), shell: connectShell(), uploader: null };
  const token = pageToken();
  const base = new URL('./', window.location.href);
  base.search = '';
  base.hash = '';
  const control: StreamControl = {};
  const connection = new ConnectionRelay('connecting', () => control.retryNow?.());
  const client = createClient(createWebApi(base, token, (s) => connection.set(s), control), { transport: 'web', hasToken: token !== null, connection });
  return { client, shell: null, uploader: createUploader(base, token) };
}
