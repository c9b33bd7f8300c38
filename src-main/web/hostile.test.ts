/**
 * What a local server must refuse beside a wrong token, each class with several inputs: a Host
 * that is not this server (DNS rebinding), an Origin that is not its own (a cross-site page), the
 * same for the WebSocket upgrade; malformed percent-encoding; bodies over the limit. After all of
 * it the server still answers.
 */
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';
import { startWebServer, type WebServer } from './server.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let server: WebServer;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path, { importSample: false });
  const renderer = join(dir.path, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>CNN Studio</title>');
  server = await startWebServer(service, { rendererDir: renderer, maxBodyBytes: 1024 });
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  dir?.remove();
});

interface Reply {
  status: number;
  body: string;
}

/** One raw HTTP/1.1 request, with exactly the headers given (fetch would not let us set Host). */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: Buffer[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: server.port, path, method: options.method ?? 'POST', setHost: false,
      headers: { host: `127.0.0.1:${server.port}`, ...options.headers },
    }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    if (options.chunks) for (const c of options.chunks) req.write(c);
    req.end(options.body);
  });
}

/** The status a WebSocket upgrade gets with these headers. */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: server.port, path: `/api/events?token=${server.token}`, setHost: false,
      headers: { host: `127.0.0.1:${server.port}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const auth = () => ({ authorization: `Bearer ${server.token}`, 'content-type': 'application/json' });
const api = (headers: Record<string, string> = {}) => send('/api/listDatasets', { headers: { ...auth(), ...headers }, body: '{}' });
const stillServing = async () => expect((await api()).status).toBe(200);

describe('DNS rebinding: the Host must name this server', () => {
  const foreign = () => ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `localhost.evil.example:${server.port}`,
    `127.0.0.2:${server.port}`, `[::1]:${server.port}`, `127.0.0.1`, `127.0.0.1:${server.port}.evil.example`];

  it('API calls with the right token, pages and the event socket are refused (403) for any other Host', async () => {
    for (const host of foreign()) {
      const r = await api({ host });
      expect([host, r.status]).toEqual([host, 403]);
      expect(JSON.parse(r.body)).toEqual({ ok: false, error: { code: 'unauthorized', message: `requests must be addressed to http://127.0.0.1:${server.port} (Host header ${JSON.stringify(host)})` } });
      expect((await send('/', { method: 'GET', headers: { host } })).status).toBe(403);
      expect(await upgrade({ host })).toBe(403);
    }
    await stillServing();
  });

  it('127.0.0.1:PORT and localhost:PORT (any case) are this server', async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LocalHost:${server.port}`]) {
      expect((await api({ host })).status).toBe(200);
      expect((await send('/', { method: 'GET', headers: { host } })).status).toBe(200);
      expect(await upgrade({ host })).toBe(101);
    }
  });
});

describe('cross-site: an Origin, when a browser sends one, must be this server', () => {
  const foreign = () => ['http://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`,
    `http://localhost.evil.example:${server.port}`, `http://127.0.0.1:${server.port}.evil.example`, 'file://'];

  it('API calls with the right token and the event socket are refused (403) from any other origin', async () => {
    for (const origin of foreign()) {
      const r = await api({ origin });
      expect([origin, r.status]).toEqual([origin, 403]);
      expect(JSON.parse(r.body).error.message).toBe(`requests from ${JSON.stringify(origin)} are refused: only pages served by http://127.0.0.1:${server.port} may use this API`);
      expect(await upgrade({ origin })).toBe(403);
    }
    await stillServing();
  });

  it('no Origin (the CLI, curl, a navigation) or this server\'s own is accepted', async () => {
    for (const origin of [undefined, `http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const headers: Record<string, string> = origin ? { origin } : {};
      expect((await api(headers)).status).toBe(200);
      expect(await upgrade(headers)).toBe(101);
    }
  });
});

describe('malformed addresses', () => {
  it('bad percent-encoding is a 400 naming the address, for pages and the API alike', async () => {
    for (const path of ['/%', '/%E0%A4%A', '/%C0%AF', '/assets/%ZZ.js', '/api/%E0%A4%A']) {
      const r = await send(path, { method: 'GET', headers: auth() });
      expect([path, r.status]).toEqual([path, 400]);
      expect(JSON.parse(r.body).error).toEqual({ code: 'bad_request', message: `malformed address ${JSON.stringify(path)} (bad percent-encoding)` });
    }
    await stillServing();
  });
});

describe('bodies over the limit (1,024 bytes here)', () => {
  it('a declared Content-Length over it is a 413 with the numbers, before the body is read', async () => {
    const r = await send('/api/listRuns', { headers: { ...auth(), 'content-length': '5000' }, body: Buffer.alloc(5000, 32) });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toEqual({ code: 'bad_request', message: 'the request body is 5,000 bytes, over the limit of 1,024 bytes' });
    await stillServing();
  });

  it('a chunked body that grows past it is a 413 too; what came is thrown away, not kept', async () => {
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(1024, 32));
    const r = await send('/api/listRuns', { headers: { ...auth(), 'transfer-encoding': 'chunked' }, chunks });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toEqual({ code: 'bad_request', message: 'the request body is 65,536 bytes, over the limit of 1,024 bytes' });
    await stillServing();
  });

  it('a body at the limit is read', async () => {
    const body = JSON.stringify({ limit: 5 }).padEnd(1024, ' ');
    const r = await send('/api/listRuns', { headers: auth(), body });
    expect([r.status, JSON.parse(r.body)]).toEqual([200, { ok: true, value: [] }]);
  });
});
