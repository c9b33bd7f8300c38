/**
 * How the studio starts its worker threads. The composition root (src-main/composition.ts) takes
 * them from `./index.ts` — from TypeScript sources through tsx — and the electron-vite build swaps
 * that module for `./bundle.ts`, whose factories are the bundler's `?nodeWorker` imports. Nothing
 * else starts a worker from a path of its own.
 */
import type { Worker } from 'node:worker_threads';
import type { ReplicaInit } from '../../src-engine/parallel/shared.js';
import type { ImportWorkerData } from '../datasets/worker.js';

export interface WorkerFactories {
  /** A training job (training/worker.ts: one job per thread). */
  training(): Worker;
  /** An evaluation job (the same entry, an 'evaluate' job). */
  evaluation(): Worker;
  /** An inspection of a snapshot (inspection/worker.ts: predict, feature maps, filters, step-through; one per thread). */
  inspection(): Worker;
  /** A dataset import (datasets/worker.ts), its input as workerData. */
  importer(data: ImportWorkerData): Worker;
  /** A gradient replica of data-parallel training (src-engine/parallel/worker-entry.ts), started from inside a training worker. */
  replica(init: ReplicaInit): Worker;
}
