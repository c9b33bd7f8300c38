/**
 * The worker factories of source runs (tests, tsx scripts, the CLI and web server in a checkout).
 * Node 20 cannot start a .ts worker, so each worker is the eval bootstrap of TOOLCHAIN.md that
 * loads its entry through tsx. The bundled app and the built CLI use ./bundle.ts instead (the
 * electron-vite config swaps the two); the rest of the code cannot tell them apart.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerFactories } from './types.js';

export type { WorkerFactories } from './types.js';

/** A worker running the TypeScript module `entry` through tsx's loader. */
export function startTypeScriptWorker(entry: URL, workerData?: unknown): Worker {
  // resolved here, absolutely: an eval'd worker resolves bare names from the process's cwd
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { eval: true, workerData });
}

const TRAINING = new URL('../training/worker.ts', import.meta.url);
const INSPECTION = new URL('../inspection/worker.ts', import.meta.url);
const IMPORTER = new URL('../datasets/worker.ts', import.meta.url);
const REPLICA = new URL('../../src-engine/parallel/worker-entry.ts', import.meta.url);

export const workerFactories: WorkerFactories = {
  training: () => startTypeScriptWorker(TRAINING),
  evaluation: () => startTypeScriptWorker(TRAINING),
  inspection: () => startTypeScriptWorker(INSPECTION),
  importer: (data) => startTypeScriptWorker(IMPORTER, data),
  replica: (init) => startTypeScriptWorker(REPLICA, init),
};
