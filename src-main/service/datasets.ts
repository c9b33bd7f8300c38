/**
 * The dataset library: import (in a worker, with progress and cancel; a bounded number at once),
 * list, find, delete, the check that a dataset's cache file is still there before a run depends
 * on it, and the decoded tensors of a dataset for thumbnails (the last two read are kept in memory).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DatasetInfo, ImportDatasetRequest, ImportDatasetResponse, ServiceErrorData, UpdateDatasetRequest } from '../contract/index.js';
import { DatasetImportError, importDataset as importDatasetFiles, readCache, readCacheInfo, type CachedTensors, type ImportOptions } from '../datasets/index.js';
import { describeStorageFailure } from '../db/failure.js';
import type { DatasetImportOptions, DatasetRow } from '../db/store.js';
import type { ServiceContext } from './context.js';
import { ServiceError, storageWrite } from './errors.js';
import { JobQueue, type JobQueueLimits } from './job-queue.js';

export function publicDataset(d: DatasetRow): DatasetInfo {
  const { cacheFile: _cacheFile, importOptions: _options, ...info } = d;
  return { ...info, cacheProblem: cacheProblem(d) };
}

/** Names of the library's datasets, for a message that says what there is. */
const nameList = (all: DatasetRow[]) => (all.length ? all.map((d) => `${d.id} ${JSON.stringify(d.name)}`).join(', ') : 'none');

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
    throw new ServiceError('not_found', `no dataset with id or name ${JSON.stringify(idOrName)}; the library has: ${nameList(all)}`);
  }

  update(req: UpdateDatasetRequest): DatasetInfo {
    const d = this.row(req.id);
    if (req.name !== undefined) {
      const name = req.name.trim();
      if (name === '') throw new ServiceError('bad_request', 'a dataset name cannot be empty', { field: 'name' });
      const other = this.ctx.store.datasetByName(name);
      if (other && other.id !== d.id) throw new ServiceError('conflict', `another dataset (${other.id}) is named ${JSON.stringify(name)}`, { field: 'name' });
    }
    if (req.classNames !== undefined) {
      const names = req.classNames.map((n) => n.trim());
      if (names.length !== d.classNames.length) {
        throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} has ${d.classNames.length} classes, got ${names.length} names`, { field: 'classNames' });
      }
      const empty = names.findIndex((n) => n === '');
      if (empty >= 0) throw new ServiceError('bad_request', `class ${empty} needs a name`, { field: 'classNames' });
      if (new Set(names).size !== names.length) throw new ServiceError('bad_request', `two classes cannot share a name (${names.join(', ')})`, { field: 'classNames' });
    }
    this.ctx.store.updateDataset(d.id, {
      name: req.name?.trim(), classNames: req.classNames?.map((n) => n.trim()), notes: req.notes,
      tags: req.tags && [...new Set(req.tags.map((t) => t.trim()).filter(Boolean))],
    });
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: d.id, change: 'updated' });
    return this.get(d.id);
  }

  /**
   * Imports the dataset's source again with the options it was imported with, to restore its cache
   * file; refused (and nothing changed) when the source now holds other content.
   */
  async reimport(id: number, importId?: string): Promise<DatasetInfo> {
    const d = this.row(id);
    // A damaged file of the right size would be taken as the cache it should be: it goes first.
    if (cacheProblem(d) !== null) {
      this.tensorMemo.delete(d.cacheFile);
      rmSync(d.cacheFile, { force: true });
    }
    const imported = await this.importFiles({ path: d.source, ...d.importOptions, ...(importId ? { importId } : {}) });
    if (imported.contentHash !== d.contentHash) {
      if (imported.cacheFile !== d.cacheFile && !imported.reused) this.removeUnusedCache(imported.cacheFile);
      throw new ServiceError('conflict', `${d.source} now holds other images than dataset ${JSON.stringify(d.name)} was imported from (content ${imported.contentHash.slice(0, 12)}…, expected ${d.contentHash.slice(0, 12)}…); import it as a new dataset`, { datasetId: d.id, source: d.source });
    }
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: d.id, change: 'updated' });
    return this.get(d.id);
  }

  async import(req: ImportDatasetRequest): Promise<ImportDatasetResponse> {
    const imported = await this.importFiles(req);
    if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service is closing');
    // What a re-import repeats to make the same images (and so the same content hash) again.
    const importOptions: DatasetImportOptions = {};
    if (req.mixedSizes !== undefined) importOptions.mixedSizes = req.mixedSizes;
    if (req.resizeTo !== undefined) importOptions.resizeTo = req.resizeTo;
    if (req.channels !== undefined) importOptions.channels = req.channels;
    if (req.classNames !== undefined) importOptions.classNames = req.classNames;
    let stored: { row: DatasetRow; existing: boolean };
    try {
      stored = this.ctx.store.insertDatasetOnce({
        name: req.name ?? imported.name,
        source: imported.source, format: imported.format, shape: imported.shape, classNames: imported.classNames,
        trainCount: imported.trainCount, testCount: imported.testCount, countsPerClass: imported.countsPerClass,
        contentHash: imported.contentHash, cacheFile: imported.cacheFile, lint: imported.lint, importOptions,
      }, (taken) => uniqueName(req.name ?? imported.name, taken));
    } catch (e) {
      // Nothing half-made stays: a cache file this import wrote, and no row uses, goes again.
      if (!imported.reused) this.removeUnusedCache(imported.cacheFile);
      const words = describeStorageFailure(e, 'import again');
      if (words) throw new ServiceError('storage', `${words} (nothing was kept)`);
      throw e;
    }
    if (!stored.existing) this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: stored.row.id, change: 'created' });
    return { dataset: publicDataset(this.row(stored.row.id)), alreadyImported: stored.existing, recognizedAs: imported.recognizedAs };
  }

  /** The import itself (a worker; progress events; cancel by importId), as the datasets module answers it. */
  private async importFiles(req: Omit<ImportDatasetRequest, 'name'>) {
    const importId = req.importId ?? randomUUID();
    if (this.imports.has(importId)) throw new ServiceError('conflict', `an import with id ${importId} is already running`);
    const controller = new AbortController();
    this.imports.set(importId, controller);
    try {
      const options: ImportOptions = {};
      if (req.mixedSizes !== undefined) options.mixedSizes = req.mixedSizes;
      if (req.resizeTo !== undefined) options.resizeTo = req.resizeTo;
      if (req.channels !== undefined) options.channels = req.channels;
      if (req.classNames !== undefined) options.classNames = req.classNames;
      return await this.queue.run(async () => {
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

  /**
   * Deletes the dataset and its cache file. Runs that use it are named in the refusal (in_use,
   * detail.usedBy); with `withRuns` they are deleted too, in the same transaction. `isActive` says
   * whether a run is queued or running (those are never deleted from under their worker).
   */
  delete(id: number, withRuns: boolean, isActive: (runId: number) => boolean): { deleted: true; runsDeleted: number[] } {
    const d = this.row(id);
    const runs = this.ctx.store.listRuns({ datasetId: d.id, limit: 1_000_000 });
    const active = runs.filter((r) => isActive(r.id));
    if (active.length > 0) {
      throw new ServiceError('conflict', `dataset ${JSON.stringify(d.name)} is being trained on by run${active.length === 1 ? '' : 's'} ${active.map((r) => `#${r.id}`).join(', ')}; pause or stop ${active.length === 1 ? 'it' : 'them'} first`,
        { usedBy: active.map((r) => ({ id: r.id, name: r.name })) });
    }
    if (runs.length > 0 && !withRuns) {
      const list = runs.slice(0, 10).map((r) => `#${r.id} ${JSON.stringify(r.name)}`).join(', ') + (runs.length > 10 ? `, and ${runs.length - 10} more` : '');
      throw new ServiceError('in_use', `dataset ${JSON.stringify(d.name)} is used by ${runs.length} run${runs.length === 1 ? '' : 's'} (${list}); deleting it deletes ${runs.length === 1 ? 'that run' : 'those runs'} too`,
        { usedBy: runs.map((r) => ({ id: r.id, name: r.name })) });
    }
    const runsDeleted = storageWrite(() => this.ctx.store.deleteDatasetAndRuns(d.id), 'delete it again');
    this.tensorMemo.delete(d.cacheFile);
    this.removeUnusedCache(d.cacheFile);
    for (const runId of runsDeleted) this.ctx.events.emit('libraryChanged', { kind: 'run', id: runId, change: 'deleted' });
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: d.id, change: 'deleted' });
    return { deleted: true, runsDeleted };
  }

  /**
   * Refuses — before anything changes — when the dataset's decoded images are gone or damaged,
   * saying how to get them back: a run that starts on a missing file would only fail.
   */
  checkCache(d: DatasetRow, doing: string): void {
    const problem = cacheProblem(d);
    if (problem) throw unavailable(d, `cannot ${doing}: ${problem}; nothing was changed`);
  }

  /** The decoded images and labels; thumbnails are asked for in bursts from one dataset, so the last two stay in memory. */
  tensors(d: DatasetRow): CachedTensors {
    let t = this.tensorMemo.get(d.cacheFile);
    if (!t) {
      const problem = cacheProblem(d);
      if (problem) throw unavailable(d, problem);
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

/** dataset_unavailable: the caller can offer "re-import from <source>" as one action (reimportDataset). */
const unavailable = (d: DatasetRow, message: string) => new ServiceError('dataset_unavailable', message, { datasetId: d.id, source: d.source });

/** What is wrong with a dataset's cache file (missing, truncated, not the images the row describes), or null. */
export function cacheProblem(d: DatasetRow): string | null {
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
