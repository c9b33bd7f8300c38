/**
 * Serves the built renderer on the app scheme (cnn-studio://app/…): files of one folder only, GET
 * and HEAD only, every response with the CSP header. A plain Request → Response function, so it is
 * tested without Electron; the shell registers it with protocol.handle(APP_SCHEME, …).
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { APP_HOST, APP_SCHEME } from './app-origin.js';
import { CONTENT_SECURITY_POLICY } from './csp.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.wasm': 'application/wasm', '.woff2': 'font/woff2', '.map': 'application/json',
};

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function refusal(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' } });
}

export type RendererRequestHandler = (request: Request) => Promise<Response>;

export function rendererRequestHandler(rendererDir: string): RendererRequestHandler {
  const root = resolve(rendererDir);
  return async (request) => {
    const url = new URL(request.url);
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return refusal(404, `not an app address: ${url.origin}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'only GET and HEAD');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return refusal(400, 'malformed path');
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root + sep)) return refusal(403, 'outside the renderer folder');
    try {
      if (!(await stat(file)).isFile()) return refusal(404, 'not found');
    } catch {
      return refusal(404, 'not found');
    }
    const headers = { ...SECURITY_HEADERS, 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' };
    return new Response(request.method === 'HEAD' ? null : await readFile(file), { status: 200, headers });
  };
}
