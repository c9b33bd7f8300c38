/**
 * The dataset library: import (folders of class subfolders, IDX, CSV, archives) → lint → a
 * content-addressed tensor cache file. Independent of SQLite and Electron: the service stores the
 * returned metadata; training workers read the cache file with readCache.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { workerFactories } from '../worker-factories/index.js';
import { importTempPaths } from './cache.js';
import { formatCount, resolveLimits } from './limits.js';
import {
  DatasetImportError, type DatasetImportErrorCode, type ImportLimitDetail, type ImportOptions, type ImportProgress, type ImportedDataset,
} from './types.js';
import type { ImportWorkerData } from './worker.js';

export * from './types.js';
export { readCache, readCacheInfo, verifyCache, cacheFilePath, removeStaleImportFiles, CacheFormatError, CACHE_EXTENSION } from './cache.js';
export { DEFAULT_IMPORT_LIMITS, resolveLimits, type ImportLimits } from './limits.js';
export { imagePng } from './thumbnail.js';
export { cleanLintReport } from './lint.js';
export { seededSplit, bundledSamplePath, setBundledSamplePath } from './split.js';
export type { ImportWorkerData } from './worker.js';

type WorkerMessage =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'result'; result: ImportedDataset }
  | { type: 'error'; code?: DatasetImportErrorCode; message: string; file?: string; limit?: ImportLimitDetail; stack?: string };

/**
 * Imports of this process that hold a worker. One that answered stops counting when it settles (its
 * worker is about to exit); a cancelled one counts until its worker has really exited, since a worker
 * stuck in a read that never returns still holds a thread.
 */
let activeImports = 0;

/** Imports of this process that are running, or cancelled and still stopping (for tests and diagnostics). */
export function runningImports(): number {
  return activeImports;
}

/**
 * Decodes off the main thread (worker_threads), writes the cache file into cacheDir named by content
 * hash (if the same content is already there, reuses it: `reused` is true), returns the metadata.
 * Aborting the signal rejects with code 'cancelled' at once and removes the import's partial files,
 * even when the worker is stuck in I/O and cannot stop yet: it is terminated, and whatever it leaves
 * is removed again when it finally exits. At most limits.maxConcurrentImports workers live at once;
 * one more is refused with code 'busy'.
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
  const { tempPath, extractDir } = importTempPaths(absoluteCacheDir);
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
    let limit: number;
    try {
      limit = resolveLimits(options.limits).maxConcurrentImports;
    } catch (error) {
      reject(error);
      return;
    }
    if (activeImports >= limit) {
      const message = `${source}: ${formatCount(activeImports)} import${activeImports === 1 ? ' is' : 's are'} already running (or still stopping) in this process, the limit; try again when one has finished`;
      reject(new DatasetImportError('busy', message, source, { name: 'maxConcurrentImports', actual: activeImports + 1, limit }));
      return;
    }
    mkdirSync(absoluteCacheDir, { recursive: true });
    const worker = (hooks.startWorker ?? workerFactories.importer)({ source: resolve(source), cacheDir: absoluteCacheDir, options, tempPath, extractDir });
    activeImports++;
    let counted = true;
    const release = (): void => {
      if (counted) activeImports--;
      counted = false;
    };
    let settled = false;
    const finish = (action: () => void, stillRunning = false): void => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      if (!stillRunning) release();
      action();
    };
    const onAbort = (): void => {
      finish(() => {
        void worker.terminate();
        cleanUp();
        reject(cancelled());
      }, true);
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
          if (message.code) reject(new DatasetImportError(message.code, message.message, message.file, message.limit));
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
    worker.on('exit', (code) => {
      release();
      finish(() => reject(new Error(`import worker for ${source} exited with code ${code} before answering`)));
      // A cancelled worker may have written after it was told to stop (a finished one has renamed its file).
      cleanUp();
    });
  });
}
