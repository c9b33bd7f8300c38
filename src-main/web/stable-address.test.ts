/**
 * npm run web on the same data folder twice: the same token, and the same port while it is free,
 * so a page left open can reconnect; the file that keeps them is its owner's only.
 */
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ContractHandler } from '../contract/index.js';
import { tempDir } from '../service/testing.js';
import { ADDRESS_FILE, readAddress, startOnStableAddress } from './stable-address.js';

const dir = tempDir('cnn-studio-address-');
afterAll(() => dir.remove());
const handler: ContractHandler = { call: async () => ({ ok: true, value: null as never }), on: () => () => undefined };
const options = { rendererDir: null, upload: { dir: join(dir.path, 'uploads') } };

it('a restart keeps the token and the port; the saved file is readable by its owner only', async () => {
  const first = await startOnStableAddress(handler, dir.path, undefined, options);
  await first.close();
  const second = await startOnStableAddress(handler, dir.path, undefined, options);
  await second.close();
  expect([second.port, second.token, second.url]).toEqual([first.port, first.token, first.url]);
  expect(readAddress(dir.path)).toEqual({ port: first.port, token: first.token });
  if (process.platform !== 'win32') expect(statSync(join(dir.path, ADDRESS_FILE)).mode & 0o777).toBe(0o600);
});

it('the saved port taken by another program: another port, the same token', async () => {
  const { port, token } = readAddress(dir.path);
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
  try {
    const server = await startOnStableAddress(handler, dir.path, undefined, options);
    await server.close();
    expect(server.port).not.toBe(port);
    expect(server.token).toBe(token);
    expect(readAddress(dir.path).port).toBe(server.port);
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});

it('--port wins (0: any free port); a damaged file gives a new token', async () => {
  const { token } = readAddress(dir.path);
  const any = await startOnStableAddress(handler, dir.path, 0, options);
  await any.close();
  expect(any.token).toBe(token);
  writeFileSync(join(dir.path, ADDRESS_FILE), '{"port": "eighty", "token": "short"}');
  expect(readAddress(dir.path)).toEqual({});
  const fresh = await startOnStableAddress(handler, dir.path, undefined, options);
  await fresh.close();
  expect(fresh.token).not.toBe(token);
  expect(fresh.token).toMatch(/^[0-9a-f]{64}$/);
});
