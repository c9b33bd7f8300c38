/**
 * Import worker entry: runs one import and posts progress, then exactly one 'result' or 'error'.
 * Messages: { type: 'progress', progress } | { type: 'result', result } | { type: 'error', code?, message, file? }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runImport, type RunImportInput } from './run-import.js';
import { DatasetImportError, type ImportProgress } from './types.js';

export type ImportWorkerData = RunImportInput;

const port = parentPort;
if (!port) throw new Error('src-main/datasets/worker.ts must run in a worker thread');
const input = workerData as ImportWorkerData;

// Progress is throttled: at most one message per phase every 100 ms, plus each phase's first and
// last and any change of its total (a walk that found 8 files must not stay shown as "0 of 1").
let lastPhase = '';
let lastTotal = -1;
let lastTime = 0;
const progress = (phase: ImportProgress['phase'], done: number, total: number, message?: string): void => {
  const now = Date.now();
  if (phase === lastPhase && total === lastTotal && done < total && now - lastTime < 100) return;
  lastPhase = phase;
  lastTotal = total;
  lastTime = now;
  const event: ImportProgress = { phase, done, total };
  if (message !== undefined) event.message = message;
  port.postMessage({ type: 'progress', progress: event });
};

runImport(input, progress).then(
  (result) => port.postMessage({ type: 'result', result }),
  (error: unknown) => {
    if (error instanceof DatasetImportError) port.postMessage({ type: 'error', code: error.code, message: error.message, file: error.file, limit: error.limit });
    else port.postMessage({ type: 'error', message: error instanceof Error ? `${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined });
  },
);
