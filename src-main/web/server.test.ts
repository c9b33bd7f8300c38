import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DatasetInfo, Events, Result, RunSummary } from '../contract/index.js';
import { SAMPLE_DATASET_NAME, type Service } from '../service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from '../service/testing.js';
import { rendererDirFor, startWebServer, type WebServer } from './server.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let server: WebServer;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  server = await startWebServer(service, { rendererDir: null });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  dir?.remove();
});

const post = (command: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.apiUrl}/${command}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

it('listens on 127.0.0.1 with a random port and prints a URL carrying a 64-hex-digit token', () => {
  expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{64}$`));
  expect(server.port).toBeGreaterThan(0);
});

it('refuses API calls without the token or with a wrong one (401), for commands and the event socket', async () => {
  for (const headers of [{}, { authorization: 'Bearer nope' }, { 'x-cnn-studio-token': server.token.slice(1) }] as Record<string, string>[]) {
    const res = await post('listDatasets', {}, headers);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Result<unknown>).ok).toBe(false);
  }
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
  expect(status).toBe(401);
});

it('answers a real command over HTTP (header or query token), errors as data, and streams run events over the WebSocket', async () => {
  const list = (await (await post('listDatasets', {}, { authorization: `Bearer ${server.token}` })).json()) as Result<DatasetInfo[]>;
  expect(list.ok && list.value.map((d) => d.name)).toEqual([SAMPLE_DATASET_NAME]);
  const datasetId = list.ok ? list.value[0]!.id : -1;

  const refused = (await (await fetch(`${server.apiUrl}/startRun?token=${server.token}`, {
    method: 'POST', body: JSON.stringify({ datasetId, spec: MLP_SPEC, hyperparameters: { batchSize: 0 } }),
  })).json()) as Result<RunSummary>;
  expect(refused).toEqual({ ok: false, error: { code: 'invalid_hyperparameters', message: 'batch size must be an integer from 1 to 65536, got 0', detail: { field: 'batchSize' } } });

  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
  await new Promise((r) => ws.once('open', r));
  const events: { event: keyof Events; payload: Events[keyof Events] }[] = [];
  const completed = new Promise<void>((resolve) => ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    events.push(m);
    if (m.event === 'runStatus' && m.payload.status === 'completed') resolve();
  }));
  const started = (await (await post('startRun', { datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } }, { 'x-cnn-studio-token': server.token })).json()) as Result<RunSummary>;
  expect(started.ok).toBe(true);
  await completed;
  ws.close();
  expect(events.filter((e) => e.event === 'runStatus').map((e) => (e.payload as Events['runStatus']).status)).toEqual(['queued', 'running', 'completed']);
  expect(events.filter((e) => e.event === 'runProgress' && (e.payload as Events['runProgress']).kind === 'epoch')).toHaveLength(1);
  const bad = await post('noSuchCommand', {}, { authorization: `Bearer ${server.token}` });
  expect(bad.status).toBe(404);
  const notJson = await fetch(`${server.apiUrl}/listRuns?token=${server.token}`, { method: 'POST', body: '{oops' });
  expect(notJson.status).toBe(400);
});

it('serves a page saying the UI is not built, with the API address, when there is no renderer build', async () => {
  const page = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
  expect(page).toContain('The user interface is not built yet');
  expect(page).toContain(`${server.apiUrl}/&lt;command&gt;`);
});

it('finds the renderer build under a folder whose name has a space, from source and from the bundle', () => {
  const never = () => false;
  expect(rendererDirFor('file:///home/a%20user/cnn%20studio/src-main/web/server.ts', never)).toBe('/home/a user/cnn studio/out/renderer');
  const bundled = (path: string) => path === '/opt/cnn studio/out/renderer/index.html';
  expect(rendererDirFor('file:///opt/cnn%20studio/out/main/web.js', bundled)).toBe('/opt/cnn studio/out/renderer');
});
