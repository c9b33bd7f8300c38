/**
 * Starts the import worker. Under tsx/vitest this file is TypeScript and Node 20 cannot start a .ts
 * worker directly, so the worker is an eval bootstrap that loads the entry through tsx; a bundled
 * build replaces this function (setImportWorkerStarter in index.ts) with its own bundled entry.
 */
import { Worker } from 'node:worker_threads';
import type { ImportWorkerData } from './worker.js';

export function startImportWorker(workerData: ImportWorkerData): Worker {
  const isTypeScript = import.meta.url.endsWith('.ts');
  const entry = new URL(isTypeScript ? './worker.ts' : './worker.js', import.meta.url).href;
  if (!isTypeScript) return new Worker(new URL(entry), { workerData });
  const bootstrap = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(bootstrap, { eval: true, workerData });
}
