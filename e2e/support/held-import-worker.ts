/**
 * The real import worker (src-main/datasets/worker.ts) with one change for the e2e studio: before
 * it opens an image whose name ends in `-waits.png`, it opens the named pipe of the same name in
 * CNN_STUDIO_E2E_GATES and blocks there until the test opens it for writing. The importer itself
 * refuses named pipes in a dataset (they could hang it), so a spec that needs an import caught in
 * the middle holds it here instead: in progress by construction, never by a guess at its speed.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname, join } from 'node:path';

const gates = process.env.CNN_STUDIO_E2E_GATES;
if (!gates) throw new Error('held-import-worker: CNN_STUDIO_E2E_GATES is not set');

/** The gate of `<root>/<class>/<n>-waits.png` is `<gates>/<class>-<n>-waits.png`. */
export function gateFor(imagePath: string): string {
  return join(gates!, `${basename(dirname(imagePath))}-${basename(imagePath)}`);
}

const openSync = fs.openSync;
fs.openSync = ((path: fs.PathLike, ...rest: unknown[]) => {
  if (typeof path === 'string' && path.endsWith('-waits.png')) {
    fs.closeSync(openSync(gateFor(path), fs.constants.O_RDONLY)); // blocks until a writer opens it
  }
  return (openSync as (...a: unknown[]) => number)(path, ...rest);
}) as typeof fs.openSync;
syncBuiltinESMExports();

await import('../../src-main/datasets/worker.js');
