import { afterEach, describe, expect, test, vi } from 'vitest';
import { COMMAND_NAMES } from '../../../src-main/contract/index.js';
import { createClient, createWebApi, type ConnectionState } from './api.js';

/** The sockets the web client opens, driven by the test as a server would. */
class FakeSocket {
  static opened: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: URL) {
    FakeSocket.opened.push(this);
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  FakeSocket.opened = [];
});

const base = new URL('http://127.0.0.1:5000/');

describe('the web client', () => {
  test('has one function per command of the contract, each a POST to api/<command> with the token', async () => {
    const fetches: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      fetches.push({ url: String(url), init });
      return new Response(JSON.stringify({ ok: true, value: [] }), { headers: { 'content-type': 'application/json' } });
    });
    const api = createWebApi(base, 'secret');
    for (const name of COMMAND_NAMES) expect(typeof api[name], name).toBe('function');
    expect(await api.listRuns({ limit: 5 })).toEqual({ ok: true, value: [] });
    expect(fetches[0]!.url).toBe('http://127.0.0.1:5000/api/listRuns');
    expect(fetches[0]!.init.method).toBe('POST');
    expect(fetches[0]!.init.body).toBe('{"limit":5}');
    expect((fetches[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer secret');
  });

  test('a service that is gone or answers without JSON is an error as data, not a throw', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const gone = await createWebApi(base, 't').listDatasets({});
    expect(gone).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(!gone.ok && gone.error.message).toMatch(/cannot reach the studio service at http:\/\/127\.0\.0\.1:5000 \(Failed to fetch\)/);
    vi.stubGlobal('fetch', async () => new Response('<html>proxy error</html>', { status: 502 }));
    const client = createClient(createWebApi(base, 't'), { transport: 'web', hasToken: true });
    await expect(client.get('listDatasets', {})).rejects.toThrow('listDatasets: the service answered HTTP 502 without JSON');
  });

  test('events come over one socket (with the token) to every listener; a dropped socket reconnects', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
    const states: ConnectionState[] = [];
    const api = createWebApi(base, 'secret', (s) => states.push(s));
    const seen: unknown[] = [];
    api.on('runStatus', (e) => seen.push(['a', e.runId]));
    const off = api.on('runStatus', (e) => seen.push(['b', e.runId]));
    api.on('importProgress', (e) => seen.push(['import', e.done]));
    expect(FakeSocket.opened).toHaveLength(1);
    const socket = FakeSocket.opened[0]!;
    expect(socket.url.toString()).toBe('ws://127.0.0.1:5000/api/events?token=secret');
    socket.onopen!();
    socket.onmessage!({ data: JSON.stringify({ event: 'runStatus', payload: { runId: 4 } }) });
    off();
    socket.onmessage!({ data: JSON.stringify({ event: 'runStatus', payload: { runId: 5 } }) });
    socket.onmessage!({ data: JSON.stringify({ event: 'importProgress', payload: { done: 3 } }) });
    expect(seen).toEqual([['a', 4], ['b', 4], ['a', 5], ['import', 3]]);

    socket.onclose!();
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.opened).toHaveLength(2);
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting']);
  });
});
