/**
 * The dataset library: import (folders of class subfolders, IDX, CSV, archives) → lint → a
 * content-addressed tensor cache file. Independent of SQLite and Electron: the service stores the
 * returned metadata; training workers read the cache file with readCache.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { workerFactories } from '../worker-factories/index.js';
import { DatasetImportError, type DatasetImportErrorCode, type ImportOptions, type ImportProgress, type ImportedDataset } from './types.js';
import type { ImportWorkerData } from './worker.js';

export * from './types.js';
export { readCache, readCacheInfo, verifyCache, cacheFilePath, removeStaleImportFiles, CacheFormatError, CACHE_EXTENSION } from './cache.js';
export { imagePng } from './thumbnail.js';
export { cleanLintReport } from './lint.js';
export { seededSplit, bundledSamplePath, setBundledSamplePath } from './split.js';
export type { ImportWorkerData } from './worker.js';

type WorkerMessage =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'result'; result: ImportedDataset }
  | { type: 'error'; code?: DatasetImportErrorCode; message: string; file?: string; stack?: string };

/**
 * Decodes off the main thread (worker_threads), writes the cache file into cacheDir named by content
 * hash (if the same content is already there, reuses it: `reused` is true), returns the metadata.
 * Aborting the signal terminates the worker, removes its partial files and rejects with code 'cancelled'.
 */
export function importDataset(
  source: string,
  cacheDir: string,
  options: ImportOptions = {},
  hooks: {
    onProgress?: (p: ImportProgress) => void;
    signal?: AbortSignal;
    /** How the import worker starts; default the composition's (src-main/worker-factories). */
    startWorker?: (data: ImportWorkerData) => Worker;
  } = {},
): Promise<ImportedDataset> {
  const absoluteCacheDir = resolve(cacheDir);
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const tempPath = join(absoluteCacheDir, `.import-${id}.partial`);
  const extractDir = join(absoluteCacheDir, `.import-${id}.extract`);
  const cleanUp = (): void => {
    rmSync(tempPath, { force: true });
    rmSync(extractDir, { recursive: true, force: true });
  };
  const cancelled = (): DatasetImportError => new DatasetImportError('cancelled', `${source}: import cancelled`, source);

  return new Promise<ImportedDataset>((resolvePromise, reject) => {
    if (hooks.signal?.aborted) {
      reject(cancelled());
      return;
    }
    mkdirSync(absoluteCacheDir, { recursive: true });
    const worker = (hooks.startWorker ?? workerFactories.importer)({ source: resolve(source), cacheDir: absoluteCacheDir, options, tempPath, extractDir });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = (): void => {
      finish(() => {
        void worker.terminate().finally(() => {
          cleanUp();
          reject(cancelled());
        });
      });
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') {
        if (!settled) hooks.onProgress?.(message.progress);
      } else if (message.type === 'result') {
        finish(() => resolvePromise(message.result));
        void worker.terminate();
      } else {
        finish(() => {
          cleanUp();
          if (message.code) reject(new DatasetImportError(message.code, message.message, message.file));
          else {
            const error = new Error(`import of ${source} failed: ${message.message}`);
            if (message.stack) error.stack = message.stack;
            reject(error);
          }
        });
        void worker.terminate();
      }
    });
    worker.on('error', (error) => finish(() => {
      cleanUp();
      reject(new Error(`import worker for ${source} crashed: ${error.message}`));
    }));
    worker.on('exit', (code) => finish(() => {
      cleanUp();
      reject(new Error(`import worker for ${source} exited with code ${code} before answering`));
    }));
  });
}
