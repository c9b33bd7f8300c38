/**
 * Node's way to start replica threads (worker_threads). Kept apart from the pure pool
 * (data-parallel.ts) so that the engine's other files never import node:*.
 *
 * From TypeScript sources (tests, scripts under tsx) a worker cannot load a .ts file on Node 20,
 * so the entry is started through tsx's API from an eval bootstrap; a built app passes its own
 * `spawn`, e.g. electron-vite's `import createReplica from '…/worker-entry?nodeWorker'` as
 * `(init) => nodeHandle(createReplica({ workerData: init }))`.
 */
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../spec.js';
import { DataParallelGradients, type DataParallelOptions, type ReplicaHandle, type SpawnReplica } from './data-parallel.js';
import type { ReplicaInit } from './shared.js';

export function nodeHandle(worker: Worker): ReplicaHandle {
  let failed = false;
  const listeners: ((e: Error) => void)[] = [];
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    for (const l of listeners) l(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => { if (code !== 0) fail(new Error(`replica thread exited with code ${code}`)); });
  return {
    onFailure: (l) => listeners.push(l),
    terminate: () => { failed = true; return worker.terminate(); },
  };
}

const ENTRY = new URL('./worker-entry.ts', import.meta.url);

/** Starts the TypeScript entry through tsx (dev, tests, scripts); a .js entry starts directly. */
export const spawnNodeReplica: SpawnReplica = (init: ReplicaInit) => {
  if (!ENTRY.pathname.endsWith('.ts')) return nodeHandle(new Worker(ENTRY, { workerData: init }));
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(ENTRY.href)}, ${JSON.stringify(ENTRY.href)}))`;
  return nodeHandle(new Worker(bootstrap, { eval: true, workerData: init }));
};

/** Data-parallel gradients on `threads` threads: the caller and threads − 1 Node worker threads. */
export function startDataParallel(spec: ModelSpec, options: Omit<DataParallelOptions, 'spawn'> & { spawn?: SpawnReplica }): Promise<DataParallelGradients> {
  return DataParallelGradients.start(spec, { ...options, spawn: options.spawn ?? spawnNodeReplica });
}
