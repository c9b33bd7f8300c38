/**
 * The dataset library: import (in a worker, with progress and cancel), list, find, delete, and the
 * decoded tensors of a dataset for thumbnails (the last two read are kept in memory).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DatasetInfo, ImportDatasetRequest, ImportDatasetResponse, ServiceErrorData, UpdateDatasetRequest } from '../contract/index.js';
import { DatasetImportError, importDataset as importDatasetFiles, readCache, readCacheInfo, type CachedTensors, type ImportOptions } from '../datasets/index.js';
import type { DatasetImportOptions, DatasetRow } from '../db/store.js';
import type { ServiceContext } from './context.js';
import { ServiceError } from './errors.js';

/** Why a dataset's decoded images cannot be read, in words; null when they can (header, size and counts agree). */
export function cacheProblemOf(d: DatasetRow): string | null {
  try {
    const info = readCacheInfo(d.cacheFile);
    if (info.shape.join('×') !== d.shape.join('×') || info.trainCount !== d.trainCount || info.testCount !== d.testCount) {
      return `its cache file ${d.cacheFile} holds ${info.trainCount}+${info.testCount} images of ${info.shape.join('×')}, not the ${d.trainCount}+${d.testCount} of ${d.shape.join('×')} it was imported with`;
    }
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `its cache file ${d.cacheFile} is missing`;
    if (code === 'EACCES' || code === 'EPERM') return `its cache file ${d.cacheFile} cannot be read (permission denied)`;
    return `its cache file ${d.cacheFile} is damaged (${(e as Error).message.replace(`${d.cacheFile}: `, '')})`;
  }
}

export function publicDataset(d: DatasetRow): DatasetInfo {
  const { cacheFile: _cacheFile, importOptions: _options, ...info } = d;
  return { ...info, cacheProblem: cacheProblemOf(d) };
}

/** Names of the library's datasets, for a message that says what there is. */
const nameList = (all: DatasetRow[]) => (all.length ? all.map((d) => `${d.id} ${JSON.stringify(d.name)}`).join(', ') : 'none');

export class DatasetLibrary {
  private readonly imports = new Map<string, AbortController>();
  private readonly tensorMemo = new Map<string, CachedTensors>();

  constructor(private readonly ctx: ServiceContext) {}

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

  /**
   * The row of a dataset whose decoded images can be read, checked before anything is made from it
   * (a run row, an evaluation, a fork): otherwise dataset_unavailable with the source to re-import.
   */
  usable(id: number): DatasetRow {
    const d = this.row(id);
    const problem = cacheProblemOf(d);
    if (problem) {
      throw new ServiceError('dataset_unavailable', `dataset ${JSON.stringify(d.name)} cannot be used: ${problem}; re-import it from ${d.source}`, { datasetId: d.id, source: d.source });
    }
    return d;
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
    if (cacheProblemOf(d) !== null) {
      this.tensorMemo.delete(d.cacheFile);
      rmSync(d.cacheFile, { force: true });
    }
    const imported = await this.importFiles({ path: d.source, ...d.importOptions, ...(importId ? { importId } : {}) });
    if (imported.contentHash !== d.contentHash) {
      if (imported.cacheFile !== d.cacheFile && this.ctx.store.cacheFileUsers(imported.cacheFile) === 0) rmSync(imported.cacheFile, { force: true });
      throw new ServiceError('conflict', `${d.source} now holds other images than dataset ${JSON.stringify(d.name)} was imported from (content ${imported.contentHash.slice(0, 12)}…, expected ${d.contentHash.slice(0, 12)}…); import it as a new dataset`, { datasetId: d.id, source: d.source });
    }
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: d.id, change: 'updated' });
    return this.get(d.id);
  }

  async import(req: ImportDatasetRequest): Promise<ImportDatasetResponse> {
    const imported = await this.importFiles(req);
    const existing = this.ctx.store.datasetByHash(imported.contentHash);
    if (existing) return { dataset: publicDataset(this.row(existing.id)), alreadyImported: true, recognizedAs: imported.recognizedAs };
    if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service is closing');
    const importOptions: DatasetImportOptions = {};
    if (req.mixedSizes !== undefined) importOptions.mixedSizes = req.mixedSizes;
    if (req.resizeTo !== undefined) importOptions.resizeTo = req.resizeTo;
    if (req.channels !== undefined) importOptions.channels = req.channels;
    if (req.classNames !== undefined) importOptions.classNames = req.classNames;
    const row = this.ctx.store.insertDataset({
      name: this.uniqueName(req.name ?? imported.name),
      source: imported.source, format: imported.format, shape: imported.shape, classNames: imported.classNames,
      trainCount: imported.trainCount, testCount: imported.testCount, countsPerClass: imported.countsPerClass,
      contentHash: imported.contentHash, cacheFile: imported.cacheFile, lint: imported.lint, importOptions,
    });
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: row.id, change: 'created' });
    return { dataset: publicDataset(row), alreadyImported: false, recognizedAs: imported.recognizedAs };
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
      return await importDatasetFiles(req.path, this.ctx.cacheDir, options, {
        signal: controller.signal,
        onProgress: (p) => this.ctx.events.emit('importProgress', { importId, ...p }),
        startWorker: this.ctx.workers.importer,
      });
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

  private uniqueName(name: string): string {
    const taken = this.ctx.store.datasetNames();
    if (!taken.has(name)) return name;
    for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
  }

  /**
   * Deletes the dataset and its cache file. Runs that use it are named in the refusal (in_use,
   * detail.usedBy); with `withRuns` they are deleted too, in the same transaction. `isActive` says
   * whether a run is queued or running (those are never deleted from under their worker).
   */
  delete(id: number, withRuns: boolean, isActive: (runId: number) => boolean): { deleted: true; runsDeleted: number[] } {
    const d = this.row(id);
    const runs = this.ctx.store.listRuns({ datasetId: d.id });
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
    const runsDeleted = this.ctx.store.deleteDatasetAndRuns(d.id);
    this.tensorMemo.delete(d.cacheFile);
    if (this.ctx.store.cacheFileUsers(d.cacheFile) === 0) rmSync(d.cacheFile, { force: true });
    for (const runId of runsDeleted) this.ctx.events.emit('libraryChanged', { kind: 'run', id: runId, change: 'deleted' });
    this.ctx.events.emit('libraryChanged', { kind: 'dataset', id: d.id, change: 'deleted' });
    return { deleted: true, runsDeleted };
  }

  /** The decoded images and labels; thumbnails are asked for in bursts from one dataset, so the last two stay in memory. */
  tensors(d: DatasetRow): CachedTensors {
    let t = this.tensorMemo.get(d.cacheFile);
    if (!t) {
      t = readCache(d.cacheFile);
      if (this.tensorMemo.size >= 2) this.tensorMemo.delete(this.tensorMemo.keys().next().value!);
      this.tensorMemo.set(d.cacheFile, t);
    }
    return t;
  }
}
