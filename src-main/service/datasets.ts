/**
 * The dataset library: import (in a worker, with progress and cancel), list, find, delete, and the
 * decoded tensors of a dataset for thumbnails (the last two read are kept in memory).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DatasetInfo, ImportDatasetRequest, ImportDatasetResponse, ServiceErrorData } from '../contract/index.js';
import { DatasetImportError, importDataset as importDatasetFiles, readCache, type CachedTensors, type ImportOptions } from '../datasets/index.js';
import type { DatasetRow } from '../db/store.js';
import type { ServiceContext } from './context.js';
import { ServiceError } from './errors.js';

export function publicDataset(d: DatasetRow): DatasetInfo {
  const { cacheFile: _cacheFile, ...info } = d;
  return info;
}

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
      const imported = await importDatasetFiles(req.path, this.ctx.cacheDir, options, {
        signal: controller.signal,
        onProgress: (p) => this.ctx.events.emit('importProgress', { importId, ...p }),
        startWorker: this.ctx.workers.importer,
      });
      const existing = this.ctx.store.datasetByHash(imported.contentHash);
      if (existing) return { dataset: publicDataset(this.row(existing.id)), alreadyImported: true };
      if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service is closing');
      const row = this.ctx.store.insertDataset({
        name: this.uniqueName(req.name ?? imported.name),
        source: imported.source, format: imported.format, shape: imported.shape, classNames: imported.classNames,
        trainCount: imported.trainCount, testCount: imported.testCount, countsPerClass: imported.countsPerClass,
        contentHash: imported.contentHash, cacheFile: imported.cacheFile, lint: imported.lint,
      });
      return { dataset: publicDataset(row), alreadyImported: false };
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

  delete(id: number): { deleted: true } {
    const d = this.row(id);
    const runs = this.ctx.store.listRuns({ datasetId: d.id, limit: 1_000_000 });
    if (runs.length > 0) throw new ServiceError('in_use', `dataset ${JSON.stringify(d.name)} is used by ${runs.length} run(s); delete them first`);
    this.ctx.store.deleteDataset(d.id);
    this.tensorMemo.delete(d.cacheFile);
    if (this.ctx.store.cacheFileUsers(d.cacheFile) === 0) rmSync(d.cacheFile, { force: true });
    return { deleted: true };
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
