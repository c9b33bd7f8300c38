/**
 * The browser transport: the built renderer (or a page saying how to build it) and the contract
 * over HTTP on 127.0.0.1 only. Every API call needs the per-start token (header
 * `Authorization: Bearer <token>`, `X-CNN-Studio-Token: <token>`, or `?token=`):
 *   POST /api/<command>   JSON request body → JSON Result ({ok:true,value} | {ok:false,error})
 *   GET  /api/events      WebSocket; each message is {"event": name, "payload": …}
 *   POST /api/upload      a dropped file (or a tar of a dropped folder) to import (upload.ts)
 * Beside the token, every request (the WebSocket upgrade too) must name this server in its Host
 * header (127.0.0.1:PORT or localhost:PORT — a DNS-rebinding page sends its own name) and, when a
 * browser sends an Origin, come from this server's own pages (a cross-site page cannot drive it).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { COMMAND_NAMES, EVENT_NAMES, isCommandName, type ContractHandler } from '../contract/index.js';
import { UPLOAD_PATH } from '../contract/upload.js';
import { handleUpload, type UploadOptions } from './upload.js';

export interface WebServerOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** The built renderer; default out/renderer under the project root when it exists. */
  rendererDir?: string | null;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** Largest accepted request body. */
  maxBodyBytes?: number;
  /** Dropped files uploaded for import (upload.ts); default a folder in the system's temp dir. */
  upload?: UploadOptions;
}

export interface WebServer {
  url: string;
  apiUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.wasm': 'application/wasm', '.woff2': 'font/woff2', '.map': 'application/json',
};

/**
 * Where the built renderer is for the module at `moduleUrl`: beside the bundle (out/main/web.js →
 * out/renderer) when that exists, else out/renderer of the checkout (src-main/web/server.ts).
 * fileURLToPath, not URL.pathname: a folder with a space (%20) or a Windows drive letter must survive.
 */
export function rendererDirFor(moduleUrl: string, exists: (path: string) => boolean = existsSync): string {
  const fromBundle = fileURLToPath(new URL('../renderer', moduleUrl));
  return exists(join(fromBundle, 'index.html')) ? fromBundle : fileURLToPath(new URL('../../out/renderer', moduleUrl));
}

export function defaultRendererDir(): string {
  return rendererDirFor(import.meta.url);
}

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-cnn-studio-token'];
  if (typeof header === 'string') return header;
  return url.searchParams.get('token');
}

/** The Host header names this server: 127.0.0.1:PORT or localhost:PORT (any case), nothing else. */
function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host?.toLowerCase();
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

/** No Origin (a top-level navigation, curl, the CLI) or this server's own origin. */
function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const o = origin.toLowerCase();
  return o === `http://${HOST}:${port}` || o === `http://localhost:${port}`;
}

/** Why a request that is not this server's own is refused, or null when it is. */
function foreignRequest(req: IncomingMessage, port: number): string | null {
  if (!hostAllowed(req, port)) return `requests must be addressed to http://${HOST}:${port} (Host header ${JSON.stringify(req.headers.host ?? '')})`;
  if (!originAllowed(req, port)) return `requests from ${JSON.stringify(req.headers.origin)} are refused: only pages served by http://${HOST}:${port} may use this API`;
  return null;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A body over the limit: nothing of it was kept. */
class BodyTooLarge extends Error {
  constructor(readonly size: number | null, readonly limit: number) {
    super(`the request body is ${size === null ? 'larger than' : `${size.toLocaleString('en-US')} bytes, over`} the limit of ${limit.toLocaleString('en-US')} bytes`);
  }
}

/** Past this much, an oversized body is no longer read to the end (so its client can see the 413): the connection is cut. */
const MAX_DRAINED_BYTES = 1024 * 1024 * 1024;

/**
 * The body as text, kept only up to `limit` bytes: a declared Content-Length over it is refused
 * before reading; a body that grows past it is read on and thrown away (never held in memory), so
 * the client gets a clear 413 instead of a cut connection.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(c);
      else if (size > MAX_DRAINED_BYTES) req.destroy();
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLarge(Number.isFinite(declared) ? declared : size, limit)) : resolveBody(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function placeholderPage(apiUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>CNN Studio</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto">
<h1>CNN Studio</h1>
<p>The user interface is not built yet. Build it with <code>npm run build</code> (it writes <code>out/renderer</code>)
and restart <code>npm run web</code>.</p>
<p>The API is running: <code>POST ${apiUrl}/&lt;command&gt;</code> with a JSON body and the token from this page's
address (header <code>Authorization: Bearer &lt;token&gt;</code> or <code>?token=</code>); events on the WebSocket
<code>${apiUrl.replace(/^http/, 'ws')}/events?token=&lt;token&gt;</code>.</p>
<p>Commands: ${COMMAND_NAMES.map((c) => `<code>${c}</code>`).join(', ')}.</p>
</body></html>`;
}

export async function startWebServer(handler: ContractHandler, options: WebServerOptions = {}): Promise<WebServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const rendererDir = options.rendererDir === undefined ? defaultRendererDir() : options.rendererDir;
  const hasRenderer = !!rendererDir && existsSync(join(rendererDir, 'index.html'));
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let apiUrl = '';

  let port = 0;
  const server = createServer(async (req, res) => {
    const foreign = foreignRequest(req, port);
    if (foreign) return sendJson(res, 403, { ok: false, error: { code: 'unauthorized', message: foreign } });
    let url: URL;
    let path: string;
    try {
      url = new URL(req.url ?? '/', `http://${HOST}`);
      path = decodeURIComponent(url.pathname);
    } catch {
      return sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: `malformed address ${JSON.stringify(req.url)} (bad percent-encoding)` } });
    }
    try {
      if (url.pathname.startsWith('/api/')) {
        if (!sameToken(tokenOf(req, url), token)) {
          return sendJson(res, 401, { ok: false, error: { code: 'unauthorized', message: 'missing or wrong token: use the address printed by npm run web' } });
        }
        if (url.pathname === UPLOAD_PATH) return await handleUpload(req, res, url, handler, options.upload ?? { dir: join(tmpdir(), 'cnn-studio-uploads') });
        const command = url.pathname.slice('/api/'.length);
        if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'bad_request', message: `use POST for /api/${command}` } });
        if (!isCommandName(command)) return sendJson(res, 404, { ok: false, error: { code: 'bad_request', message: `unknown command ${JSON.stringify(command)}` } });
        let request: unknown = {};
        let body: string;
        try {
          body = await readBody(req, maxBody);
        } catch (e) {
          if (!(e instanceof BodyTooLarge)) throw e;
          return sendJson(res, 413, { ok: false, error: { code: 'bad_request', message: e.message } });
        }
        if (body.trim() !== '') {
          try {
            request = JSON.parse(body);
          } catch (e) {
            return sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: `request body is not JSON: ${(e as Error).message}` } });
          }
        }
        const result = await handler.call(command, request);
        return sendJson(res, 200, result);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { ok: false, error: { code: 'bad_request', message: 'only GET serves files' } });
      if (!hasRenderer) {
        const page = placeholderPage(apiUrl);
        res.writeHead(url.pathname === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(page);
      }
      const root = resolve(rendererDir!);
      const file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) return sendJson(res, 403, { ok: false, error: { code: 'bad_request', message: 'outside the renderer folder' } });
      const target = existsSync(file) && statSync(file).isFile() ? file : join(root, 'index.html');
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(target)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(target));
    } catch (e) {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: (e as Error).message } });
      else res.destroy();
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    if (foreignRequest(req, port)) return refuse('403 Forbidden');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${HOST}`);
    } catch {
      return refuse('400 Bad Request');
    }
    if (url.pathname !== '/api/events' || !sameToken(tokenOf(req, url), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
    });
  });
  const offs = EVENT_NAMES.map((event) => handler.on(event, (payload) => {
    if (clients.size === 0) return;
    const text = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  }));

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  apiUrl = `http://${HOST}:${port}/api`;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    apiUrl,
    port,
    token,
    close: async () => {
      offs.forEach((off) => off());
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
