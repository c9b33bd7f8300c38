/**
 * Node's replica threads (worker_threads) for the pure pool (data-parallel.ts), kept apart so that
 * the engine's other files never import node:*. The caller says how a replica thread starts — the
 * studio's composition (src-main/worker-factories: tsx from source, a chunk when bundled) — as
 * `spawn: (init) => nodeHandle(startReplica(init))`: the engine starts no worker from a path of its own.
 */
import type { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../spec.js';
import { DataParallelGradients, type DataParallelOptions, type ReplicaHandle } from './data-parallel.js';

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

/** Data-parallel gradients on `threads` threads: the caller and threads − 1 Node worker threads. */
export function startDataParallel(spec: ModelSpec, options: DataParallelOptions): Promise<DataParallelGradients> {
  return DataParallelGradients.start(spec, options);
}
