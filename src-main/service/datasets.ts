/**
 * The dataset library: import (in a worker, with progress and cancel; a bounded number at once),
 * list, find, delete, the check that a dataset's cache file is still there before a run depends
 * on it, and the decoded tensors of a dataset for thumbnails (the last two read are kept in memory).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DatasetInfo, ImportDatasetRequest, ImportDatasetResponse, ServiceErrorData } from '../contract/index.js';
import { DatasetImportError, importDataset as importDatasetFiles, readCache, readCacheInfo, type CachedTensors, type ImportOptions } from '../datasets/index.js';
import { describeStorageFailure } from '../db/failure.js';
import type { DatasetRow } from '../db/store.js';
import type { ServiceContext } from './context.js';
import { ServiceError, storageWrite } from './errors.js';
import { JobQueue, type JobQueueLimits } from './job-queue.js';

export function publicDataset(d: DatasetRow): DatasetInfo {
  const { cacheFile: _cacheFile, ...info } = d;
  return info;
}

export class DatasetLibrary {
  private readonly imports = new Map<string, AbortController>();
  private readonly tensorMemo = new Map<string, CachedTensors>();
  /** Imports decode whole datasets in memory: a few at once, a few more waiting, the rest refused. */
  readonly queue: JobQueue;

  constructor(private readonly ctx: ServiceContext, limits: JobQueueLimits) {
    this.queue = new JobQueue('imports', limits);
  }

  list(): DatasetInfo[] {
    return this.ctx.store.listDatasets().map(publicDataset);
  }

  get(id: number): DatasetInfo {
    return publicDataset(this.row(id));
  }

  /** The row, with where its cache file lives; not_found naming the id. */
  row(id: number): DatasetRow {
    const d = this.ctx.store.getDataset(id);
    if (!d) throw new ServiceError('not_found', `no dataset with id ${id}`);
    return d;
  }

  /** Finds a dataset by id, exact name, or (case-insensitively) unique name prefix. */
  find(idOrName: string | number): DatasetInfo {
    const all = this.ctx.store.listDatasets();
    const asNumber = Number(idOrName);
    const byId = Number.isInteger(asNumber) ? all.find((d) => d.id === asNumber) : undefined;
    if (byId) return publicDataset(byId);
    const text = String(idOrName).toLowerCase();
    const exact = all.filter((d) => d.name.toLowerCase() === text);
    if (exact.length === 1) return publicDataset(exact[0]!);
    const prefix = all.filter((d) => d.name.toLowerCase().startsWith(text));
    if (prefix.length === 1) return publicDataset(prefix[0]!);
    if (prefix.length > 1) throw new ServiceError('bad_request', `${JSON.stringify(idOrName)} matches ${prefix.length} datasets: ${prefix.map((d) => d.name).join(', ')}`);
    throw new ServiceError('not_found', `no dataset with id or name ${JSON.stringify(idOrName)}`);
  }

  async import(req: ImportDatasetRequest): Promise<ImportDatasetResponse> {
    const importId = req.importId ?? randomUUID();
    if (this.imports.has(importId)) throw new ServiceError('conflict', `an import with id ${importId} is already running`);
    const controller = new AbortController();
    this.imports.set(importId, controller);
    try {
      const options: ImportOptions = {};
      if (req.name !== undefined) options.name = req.name;
      if (req.mixedSizes !== undefined) options.mixedSizes = req.mixedSizes;
      if (req.resizeTo !== undefined) options.resizeTo = req.resizeTo;
      if (req.channels !== undefined) options.channels = req.channels;
      const imported = await this.queue.run(async () => {
        // The slot is free once the import's worker has exited, not when it answered: until then it holds its memory.
        let exited: Promise<void> | null = null;
        try {
          return await importDatasetFiles(req.path, this.ctx.cacheDir, options, {
            signal: controller.signal,
            onProgress: (p) => this.ctx.events.emit('importProgress', { importId, ...p }),
            startWorker: (data) => {
              const worker = this.ctx.workers.importer(data);
              exited = new Promise((r) => worker.once('exit', () => r()));
              return worker;
            },
          });
        } finally {
          await exited;
        }
      }, { signal: controller.signal, cancelled: () => new ServiceError('cancelled', `${req.path}: import cancelled before it started`) });
      if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service is closing');
      let stored: { row: DatasetRow; existing: boolean };
      try {
        stored = this.ctx.store.insertDatasetOnce({
          name: req.name ?? imported.name,
          source: imported.source, format: imported.format, shape: imported.shape, classNames: imported.classNames,
          trainCount: imported.trainCount, testCount: imported.testCount, countsPerClass: imported.countsPerClass,
          contentHash: imported.contentHash, cacheFile: imported.cacheFile, lint: imported.lint,
        }, (taken) => uniqueName(req.name ?? imported.name, taken));
      } catch (e) {
        // Nothing half-made stays: a cache file this import wrote, and no row uses, goes again.
        if (!imported.reused) this.removeUnusedCache(imported.cacheFile);
        const words = describeStorageFailure(e, 'import again');
        if (words) throw new ServiceError('storage', `${words} (nothing was kept)`);
        throw e;
      }
      return { dataset: publicDataset(this.row(stored.row.id)), alreadyImported: stored.existing };
    } catch (e) {
      if (e instanceof DatasetImportError) {
        if (e.code === 'cancelled') throw new ServiceError('cancelled', e.message, { file: e.file, importCode: e.code });
        const detail: NonNullable<ServiceErrorData['detail']> = { importCode: e.code };
        if (e.file !== undefined) detail.file = e.file;
        if (e.limit !== undefined) detail.limit = { ...e.limit };
        throw new ServiceError('import_failed', e.message, detail);
      }
      throw e;
    } finally {
      this.imports.delete(importId);
    }
  }

  cancelImport(importId: string): { cancelled: boolean } {
    const c = this.imports.get(importId);
    if (!c) return { cancelled: false };
    c.abort();
    return { cancelled: true };
  }

  /** Cancels every import in flight (the service is closing). */
  cancelAll(): void {
    for (const c of this.imports.values()) c.abort();
  }

  private removeUnusedCache(cacheFile: string): void {
    try {
      if (this.ctx.store.cacheFileUsers(cacheFile) === 0) rmSync(cacheFile, { force: true });
    } catch {
      // cannot tell whether a row uses it (the library cannot be read): keep it
    }
  }

  delete(id: number): { deleted: true } {
    const d = this.row(id);
    const runs = this.ctx.store.listRuns({ datasetId: d.id, limit: 1_000_000 });
    if (runs.length > 0) throw new ServiceError('in_use', `dataset ${JSON.stringify(d.name)} is used by ${runs.length} run(s); delete them first`);
    storageWrite(() => this.ctx.store.deleteDataset(d.id), 'delete it again');
    this.tensorMemo.delete(d.cacheFile);
    this.removeUnusedCache(d.cacheFile);
    return { deleted: true };
  }

  /**
   * Refuses — before anything changes — when the dataset's decoded images are gone or damaged,
   * saying how to get them back: a run that starts on a missing file would only fail.
   */
  checkCache(d: DatasetRow, doing: string): void {
    const problem = cacheProblem(d);
    if (problem) throw new ServiceError('conflict', `cannot ${doing}: ${problem}; nothing was changed`);
  }

  /** The decoded images and labels; thumbnails are asked for in bursts from one dataset, so the last two stay in memory. */
  tensors(d: DatasetRow): CachedTensors {
    let t = this.tensorMemo.get(d.cacheFile);
    if (!t) {
      const problem = cacheProblem(d);
      if (problem) throw new ServiceError('conflict', problem);
      t = readCache(d.cacheFile);
      if (this.tensorMemo.size >= 2) this.tensorMemo.delete(this.tensorMemo.keys().next().value!);
      this.tensorMemo.set(d.cacheFile, t);
    }
    return t;
  }
}

function uniqueName(name: string, taken: Set<string>): string {
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
}

/** What is wrong with a dataset's cache file (missing, truncated, not the images the row describes), or null. */
function cacheProblem(d: DatasetRow): string | null {
  let reason: string;
  try {
    const info = readCacheInfo(d.cacheFile);
    const [h, w, c] = d.shape;
    if (info.trainCount === d.trainCount && info.testCount === d.testCount && info.shape[0] === h && info.shape[1] === w && info.shape[2] === c) return null;
    reason = `damaged (it holds ${info.trainCount}+${info.testCount} images of ${info.shape.join('×')}, the library expects ${d.trainCount}+${d.testCount} of ${d.shape.join('×')})`;
  } catch (e) {
    reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `damaged (${(e as Error).message})`;
  }
  return `the decoded images of dataset ${JSON.stringify(d.name)} (${d.cacheFile}) are ${reason}. ` +
    `Import the dataset again from ${d.source} (the same images are recognised and the file is written again)`;
}
