/**
 * `npm run web [-- --port N] [--db FILE] [--renderer DIR]`: the service and the browser transport on
 * 127.0.0.1. Prints the address with its token — the same as the last start on this data folder,
 * port included when it is free and no --port is given (stable-address.ts); Ctrl-C pauses running
 * runs and exits.
 */
import { dirname, join, resolve } from 'node:path';
import { openStudio } from '../composition.js';
import { defaultDatabasePath } from '../service/paths.js';
import type { Service } from '../service/service.js';
import { startOnStableAddress } from './stable-address.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) {
    process.stderr.write(`npm run web: --${name} needs a value\n`);
    process.exit(2);
  }
  return v;
}

const portText = flag('port');
const port = portText === undefined ? undefined : Number(portText);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
  process.stderr.write(`npm run web: --port must be an integer from 0 to 65535, got ${portText}\n`);
  process.exit(2);
}
const dbPath = resolve(flag('db') ?? defaultDatabasePath());
let service: Service;
try {
  service = await openStudio(dbPath, { ownerLabel: 'the web server (npm run web)' });
} catch (e) {
  // a damaged or unwritable library: said in words, with what to do, and nothing is served
  process.stderr.write(`npm run web: ${(e as Error).message}\n`);
  process.exit(1);
}
if (service.startup.interrupted.length) {
  console.error(`runs ${service.startup.interrupted.join(', ')} were interrupted (the process training them is gone): resume them to continue`);
}
if (service.startup.sampleError) console.error(`warning: the bundled sample dataset could not be imported (${service.startup.sampleError})`);
const rendererDir = flag('renderer');
// the same token (and port, when free) as the last start on this data folder: an open page reconnects;
// uploads wait beside the library (the same disk as its cache), not in a small /tmp
const server = await startOnStableAddress(service, dirname(dbPath), port, { upload: { dir: join(dirname(dbPath), 'uploads') }, ...(rendererDir ? { rendererDir: resolve(rendererDir) } : {}) });
process.stdout.write(`CNN Studio is serving on ${server.url}\n(database ${dbPath}; API ${server.apiUrl}/<command>; Ctrl-C to stop)\n`);

let closing = false;
const shutdown = async () => {
  if (closing) process.exit(130);
  closing = true;
  process.stdout.write('stopping: pausing running runs…\n');
  await server.close();
  await service.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
