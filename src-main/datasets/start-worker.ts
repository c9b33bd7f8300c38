/**
 * Starts the import worker (worker.ts next to this file, through tsx from source); a bundled build
 * replaces this function (setImportWorkerStarter in index.ts) with its own bundled entry.
 */
import type { Worker } from 'node:worker_threads';
import { siblingEntry, startWorker } from '../workers.js';
import type { ImportWorkerData } from './worker.js';

export function startImportWorker(workerData: ImportWorkerData): Worker {
  return startWorker(siblingEntry(import.meta.url, 'worker'), workerData);
}
