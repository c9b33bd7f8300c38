/**
 * The browser mode's address across restarts on one data folder: the same token, and the same port
 * when it is free, so a page left open reconnects by itself once `npm run web` is back (its event
 * socket retries, its calls go to the same origin with the same token). Kept in web-server.json in
 * the data folder, readable by its owner only: whoever can read it can call the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { custom, integer, object, optional, type Infer } from '../contract/schema.js';
import { writeAtomic } from '../export/files.js';
import { startWebServer, type WebServer, type WebServerOptions } from './server.js';
import type { ContractHandler } from '../contract/index.js';

export const ADDRESS_FILE = 'web-server.json';

const addressSchema = object({
  port: optional(integer({ min: 1, max: 65535 })),
  token: optional(custom<string>('64 hex digits', (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v))),
});
export type SavedAddress = Infer<typeof addressSchema>;

export function readAddress(dataDir: string): SavedAddress {
  try {
    return addressSchema.parse(JSON.parse(readFileSync(join(dataDir, ADDRESS_FILE), 'utf8')), '');
  } catch {
    return {};
  }
}

export function saveAddress(dataDir: string, address: { port: number; token: string }): void {
  writeAtomic(join(dataDir, ADDRESS_FILE), `${JSON.stringify(address)}\n`, 0o600);
}

/**
 * Starts the server with the saved token, on `port` when one is asked for (0: any), else on the
 * saved port if it is free, else on any; then saves what it got.
 */
export async function startOnStableAddress(handler: ContractHandler, dataDir: string, port: number | undefined, options: Omit<WebServerOptions, 'port' | 'token'> = {}): Promise<WebServer> {
  const saved = readAddress(dataDir);
  const base = { ...options, ...(saved.token ? { token: saved.token } : {}) };
  let server: WebServer | null = null;
  if (port === undefined && saved.port) {
    try {
      server = await startWebServer(handler, { ...base, port: saved.port });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  server ??= await startWebServer(handler, { ...base, port: port ?? 0 });
  saveAddress(dataDir, { port: server.port, token: server.token });
  return server;
}
