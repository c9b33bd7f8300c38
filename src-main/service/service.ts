/**
 * The service: owns the database (the only writer), the dataset library, the training pool,
 * evaluation and export. Electron IPC, the web server and the CLI are thin transports over `call`
 * and `on`; every command is also a typed method that throws ServiceError.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ENGINE_VERSION, inferShapes, specHash, type ShapeReport } from '../../src-engine/index.js';
import { COMMAND_NAMES } from '../contract.js';
import type {
  BatchMetricsRow, CommandName, CompareResponse, ContractHandler, DatasetInfo, EvaluateRunRequest, EvaluationInfo, EventName,
  Events, ExportRunRequest, ExportRunResponse, ForkRunRequest, ImportDatasetRequest, ImportDatasetResponse, ModelSpec,
  RequestOf, ResponseOf, Result, RunDetail, RunStatus, RunSummary, StartRunRequest, Thumbnail, ThumbnailsRequest,
} from '../contract.js';
import {
  bundledSamplePath, DatasetImportError, importDataset as importDatasetFiles, readCache, type CachedTensors,
} from '../datasets/index.js';
import { exportModelJson, exportOnnx, metricsCsv } from '../export/index.js';
import { Store, type DatasetRow, type RunRow } from '../db/store.js';
import { CONTROL_PAUSE, CONTROL_STOP, type TrainJob, type WorkerMessage } from '../training/protocol.js';
import { defaultWorkerFactory, runInWorker, WorkerPool, type WorkerFactory } from '../training/pool.js';
import { weightsFromState } from '../training/run-job.js';
import { ServiceError } from './errors.js';
import { checkHyperparameters, DEFAULT_HYPERPARAMETERS, mergeHyperparameters, toTrainConfig } from './hyperparameters.js';
import { TEMPLATES } from './templates.js';

export const SAMPLE_DATASET_NAME = 'Fashion-MNIST sample';

export interface ServiceOptions {
  /** Training workers at once (default 1); further runs wait in the queue. */
  poolSize?: number;
  /** How training/evaluation workers are made (default: worker.ts via tsx, or worker.js when built). */
  workerFactory?: WorkerFactory;
  /** Import the bundled Fashion-MNIST sample on first start (default true). */
  importSample?: boolean;
  /** Batch metric rows are buffered and written at most this often (ms); epoch ends flush at once. */
  flushIntervalMs?: number;
  /** Misclassified samples kept per evaluation. */
  maxMisclassified?: number;
}

/** A run whose worker is alive (or queued): where its pending rows and waiters live. */
interface ActiveRun {
  runId: number;
  pendingBatches: (BatchMetricsRow & { runId: number })[];
  lastWallTime: number;
  epochs: number;
  /** Resolved when the worker's final message (or crash) has been handled. */
  finished: Promise<void>;
  resolveFinished: () => void;
}

const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted', 'stopped']);

export class Service implements ContractHandler {
  readonly store: Store;
  readonly dataDir: string;
  readonly cacheDir: string;
  private readonly pool: WorkerPool;
  private readonly workerFactory: WorkerFactory;
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  private readonly active = new Map<number, ActiveRun>();
  private readonly imports = new Map<string, AbortController>();
  private readonly cacheMemo = new Map<string, CachedTensors>();
  /** Evaluation workers in flight, with the run they evaluate and how to cancel them. */
  private readonly evaluations = new Map<Worker, { runId: number; cancel: () => void }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly flushIntervalMs: number;
  private readonly maxMisclassified: number;
  private closed = false;
  /** What open() found: runs it marked interrupted and the integrity check's answer. */
  readonly startup: { interrupted: number[]; integrity: string; sampleError?: string };

  private constructor(dbPath: string, dataDir: string, options: ServiceOptions) {
    this.dataDir = resolve(dataDir);
    this.cacheDir = join(this.dataDir, 'datasets');
    mkdirSync(this.cacheDir, { recursive: true });
    mkdirSync(dirname(resolve(dbPath)), { recursive: true });
    this.store = new Store(dbPath);
    this.workerFactory = options.workerFactory ?? defaultWorkerFactory();
    this.pool = new WorkerPool(options.poolSize ?? 1, this.workerFactory);
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxMisclassified = options.maxMisclassified ?? 1000;
    // Nothing runs yet: anything the database says is running or queued died with the last process.
    const interrupted = [...this.store.runIdsWithStatus('running'), ...this.store.runIdsWithStatus('queued')];
    for (const id of interrupted) this.store.setStatus(id, 'interrupted');
    this.startup = { interrupted, integrity: this.store.integrityCheck() };
  }

  /** Opens (creating if needed) the database and the data folder; imports the sample on first start. */
  static async open(dbPath: string, dataDir: string = dirname(resolve(dbPath)), options: ServiceOptions = {}): Promise<Service> {
    const service = new Service(dbPath, dataDir, options);
    if ((options.importSample ?? true) && service.store.getMeta('sample_imported') === undefined) {
      try {
        await service.importDataset({ path: bundledSamplePath(), name: SAMPLE_DATASET_NAME });
        service.store.setMeta('sample_imported', new Date().toISOString());
      } catch (e) {
        // not fatal (the library works without it), but said: the next start tries again
        service.store.setMeta('sample_import_error', (e as Error).message);
        service.startup.sampleError = (e as Error).message;
      }
    }
    return service;
  }

  /** Pauses running runs (their state is snapshotted), flushes metrics, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of this.pool.queuedKeys) {
      this.pool.dequeue(id);
      this.setStatus(id, 'paused');
      this.finishActive(id);
    }
    for (const c of this.imports.values()) c.abort();
    const waits = [...this.active.values()].map((a) => {
      this.pool.signal(a.runId, CONTROL_PAUSE);
      return a.finished;
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 30_000).unref())]);
    await this.pool.close();
    await Promise.all([...this.evaluations.keys()].map((w) => w.terminate()));
    this.flush();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.store.close();
  }

  // ------------------------------------------------------------------------------------------
  // Transport surface

  async call<C extends CommandName>(command: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
    try {
      const handler = (this as unknown as Record<string, unknown>)[command];
      if (typeof handler !== 'function' || !COMMANDS.has(command)) throw new ServiceError('bad_request', `unknown command ${JSON.stringify(command)}`);
      const value = await (handler as (r: unknown) => unknown).call(this, request ?? {});
      return { ok: true, value: value as ResponseOf<C> };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, error: e.toData() };
      return { ok: false, error: { code: 'internal', message: (e as Error)?.message ?? String(e) } };
    }
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set!.delete(listener as (payload: never) => void);
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (p: Events[E]) => void)(payload);
      } catch {
        // a subscriber's bug must not stop training bookkeeping
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Datasets

  listDatasets(): DatasetInfo[] {
    return this.store.listDatasets().map(publicDataset);
  }

  getDataset(req: { id: number }): DatasetInfo {
    return publicDataset(this.datasetRow(req.id));
  }

  private datasetRow(id: number): DatasetRow {
    const d = this.store.getDataset(Number(id));
    if (!d) throw new ServiceError('not_found', `no dataset with id ${id}`);
    return d;
  }

  /** Finds a dataset by id, exact name, or (case-insensitively) unique name prefix. */
  findDataset(idOrName: string | number): DatasetInfo {
    const all = this.store.listDatasets();
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

  async importDataset(req: ImportDatasetRequest): Promise<ImportDatasetResponse> {
    if (!req || typeof req.path !== 'string' || req.path === '') throw new ServiceError('bad_request', 'importDataset needs a path');
    const importId = req.importId ?? randomUUID();
    if (this.imports.has(importId)) throw new ServiceError('conflict', `an import with id ${importId} is already running`);
    const controller = new AbortController();
    this.imports.set(importId, controller);
    try {
      const options: Parameters<typeof importDatasetFiles>[2] = {};
      if (req.name !== undefined) options.name = req.name;
      if (req.mixedSizes !== undefined) options.mixedSizes = req.mixedSizes;
      if (req.resizeTo !== undefined) options.resizeTo = req.resizeTo;
      if (req.channels !== undefined) options.channels = req.channels;
      const imported = await importDatasetFiles(req.path, this.cacheDir, options, {
        signal: controller.signal,
        onProgress: (p) => this.emit('importProgress', { importId, ...p }),
      });
      const existing = this.store.datasetByHash(imported.contentHash);
      if (existing) return { dataset: publicDataset(this.datasetRow(existing.id)), alreadyImported: true };
      if (this.closed) throw new ServiceError('cancelled', 'the service is closing');
      const row = this.store.insertDataset({
        name: this.uniqueDatasetName(req.name ?? imported.name),
        source: imported.source, format: imported.format, shape: imported.shape, classNames: imported.classNames,
        trainCount: imported.trainCount, testCount: imported.testCount, countsPerClass: imported.countsPerClass,
        contentHash: imported.contentHash, cacheFile: imported.cacheFile, lint: imported.lint,
      });
      return { dataset: publicDataset(row), alreadyImported: false };
    } catch (e) {
      if (e instanceof DatasetImportError) {
        if (e.code === 'cancelled') throw new ServiceError('cancelled', e.message, { file: e.file, importCode: e.code });
        const detail: { importCode: string; file?: string } = { importCode: e.code };
        if (e.file !== undefined) detail.file = e.file;
        throw new ServiceError('import_failed', e.message, detail);
      }
      throw e;
    } finally {
      this.imports.delete(importId);
    }
  }

  cancelImport(req: { importId: string }): { cancelled: boolean } {
    const c = this.imports.get(req.importId);
    if (!c) return { cancelled: false };
    c.abort();
    return { cancelled: true };
  }

  private uniqueDatasetName(name: string): string {
    const taken = this.store.datasetNames();
    if (!taken.has(name)) return name;
    for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
  }

  deleteDataset(req: { id: number }): { deleted: true } {
    const d = this.datasetRow(req.id);
    const runs = this.store.listRuns({ datasetId: d.id, limit: 1_000_000 });
    if (runs.length > 0) throw new ServiceError('in_use', `dataset ${JSON.stringify(d.name)} is used by ${runs.length} run(s); delete them first`);
    this.store.deleteDataset(d.id);
    this.cacheMemo.delete(d.cacheFile);
    if (this.store.cacheFileUsers(d.cacheFile) === 0) rmSync(d.cacheFile, { force: true });
    return { deleted: true };
  }

  private tensors(d: DatasetRow): CachedTensors {
    let t = this.cacheMemo.get(d.cacheFile);
    if (!t) {
      t = readCache(d.cacheFile);
      // Thumbnails are asked for in bursts from one dataset: keep the last two in memory.
      if (this.cacheMemo.size >= 2) this.cacheMemo.delete(this.cacheMemo.keys().next().value!);
      this.cacheMemo.set(d.cacheFile, t);
    }
    return t;
  }

  async getThumbnails(req: ThumbnailsRequest): Promise<Thumbnail[]> {
    const d = this.datasetRow(req.datasetId);
    if (req.split !== 'train' && req.split !== 'test') throw new ServiceError('bad_request', `split must be 'train' or 'test', got ${JSON.stringify(req.split)}`);
    if (!Array.isArray(req.indices) || req.indices.length > 2000) throw new ServiceError('bad_request', 'indices must be an array of at most 2000 image indices');
    const t = this.tensors(d);
    const split = req.split === 'train' ? t.train : t.test;
    const n = split?.n ?? 0;
    const [h, w, c] = t.shape;
    const size = h * w * c;
    const scale = req.scale ?? 1;
    if (!Number.isInteger(scale) || scale < 1 || scale > 16) throw new ServiceError('bad_request', `scale must be an integer from 1 to 16, got ${scale}`);
    const format = req.format ?? 'png';
    return Promise.all(req.indices.map(async (index) => {
      if (!Number.isInteger(index) || index < 0 || index >= n) throw new ServiceError('bad_request', `image index ${index} is outside the ${req.split} split (0 to ${n - 1})`);
      const pixels = split!.images.subarray(index * size, (index + 1) * size);
      const label = split!.labels[index]!;
      let bytes: Uint8Array = pixels;
      if (format === 'png') {
        let img = sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: c as 1 | 3 } });
        if (scale > 1) img = img.resize(w * scale, h * scale, { kernel: 'nearest' });
        bytes = await img.png().toBuffer();
      }
      return {
        index, label, className: t.classNames[label] ?? String(label), width: format === 'png' ? w * scale : w,
        height: format === 'png' ? h * scale : h, channels: c, format, base64: Buffer.from(bytes).toString('base64'),
      } satisfies Thumbnail;
    }));
  }

  // ------------------------------------------------------------------------------------------
  // Specs

  templates(req?: { datasetId?: number } | void): { name: string; description: string; spec: ModelSpec }[] {
    const d = req && req.datasetId !== undefined ? this.datasetRow(req.datasetId) : null;
    const shape: [number, number, number] = d ? d.shape : [28, 28, 1];
    const classes = d ? d.classNames.length : 10;
    return TEMPLATES.map((t) => ({ name: t.name, description: t.description, spec: t.build(shape, classes) }));
  }

  validateSpec(req: { datasetId?: number; spec: ModelSpec }): ShapeReport & { datasetMessage?: string } {
    const report = inferShapes(req.spec);
    if (!report.ok || req.datasetId === undefined) return report;
    const problem = specDatasetMismatch(req.spec, report, this.datasetRow(req.datasetId));
    return problem ? { ...report, ok: false, error: { layerIndex: problem.layerIndex, message: problem.message }, datasetMessage: problem.message } : report;
  }

  /** Throws invalid_spec with the engine's message (or the dataset mismatch). */
  private checkSpec(spec: ModelSpec, d: DatasetRow): ShapeReport {
    const report = inferShapes(spec);
    if (!report.ok) throw new ServiceError('invalid_spec', report.error!.message, { layerIndex: report.error!.layerIndex });
    const problem = specDatasetMismatch(spec, report, d);
    if (problem) throw new ServiceError('invalid_spec', problem.message, { layerIndex: problem.layerIndex });
    return report;
  }

  // ------------------------------------------------------------------------------------------
  // Runs

  startRun(req: StartRunRequest): RunSummary {
    const d = this.datasetRow(req?.datasetId);
    const report = this.checkSpec(req.spec, d);
    const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    const id = this.store.insertRun({
      name: req.name ?? `${d.name} · ${describeSpec(req.spec)}`,
      datasetId: d.id, spec: req.spec, specHash: specHash(req.spec), totalParams: report.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: null, parentSnapshotId: null,
      notes: req.notes ?? '', tags: req.tags ?? [],
    });
    this.emit('runStatus', { runId: id, status: 'queued', previous: null, error: null, stopReason: null, kernelsUsed: null });
    this.schedule(id);
    return this.runSummary(id);
  }

  forkRun(req: ForkRunRequest): RunSummary {
    const parent = this.runRow(req.runId);
    const snapshots = this.store.snapshots(parent.id);
    const snapshot = req.snapshotId !== undefined ? snapshots.find((s) => s.id === req.snapshotId) : snapshots[snapshots.length - 1];
    if (!snapshot) {
      throw new ServiceError('not_found', req.snapshotId !== undefined ? `run ${parent.id} has no snapshot ${req.snapshotId}` : `run ${parent.id} has no snapshot to fork from yet`);
    }
    const d = this.datasetRow(parent.datasetId);
    const hyper = mergeHyperparameters(parent.hyperparameters, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    const id = this.store.insertRun({
      name: req.name ?? `${parent.name} (fork of #${parent.id} at epoch ${snapshot.epoch})`,
      datasetId: d.id, spec: parent.spec, specHash: parent.specHash, totalParams: parent.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: parent.id, parentSnapshotId: snapshot.id,
      notes: '', tags: parent.tags,
    });
    this.emit('runStatus', { runId: id, status: 'queued', previous: null, error: null, stopReason: null, kernelsUsed: null });
    this.schedule(id);
    return this.runSummary(id);
  }

  async pauseRun(req: { id: number }): Promise<RunSummary> {
    return this.haltRun(req.id, 'paused');
  }

  async stopRun(req: { id: number }): Promise<RunSummary> {
    return this.haltRun(req.id, 'stopped');
  }

  private async haltRun(id: number, target: 'paused' | 'stopped'): Promise<RunSummary> {
    const run = this.runRow(id);
    if (this.pool.isQueued(run.id)) {
      this.pool.dequeue(run.id);
      this.setStatus(run.id, target);
      this.finishActive(run.id);
      return this.runSummary(run.id);
    }
    const active = this.active.get(run.id);
    if (active && this.pool.signal(run.id, target === 'paused' ? CONTROL_PAUSE : CONTROL_STOP)) {
      await active.finished;
      return this.runSummary(run.id);
    }
    if (target === 'stopped' && (run.status === 'paused' || run.status === 'interrupted')) {
      this.setStatus(run.id, 'stopped', null, 'stopped');
      return this.runSummary(run.id);
    }
    if (run.status === target) return this.runSummary(run.id);
    throw new ServiceError('conflict', `run ${run.id} is ${run.status}; only a queued or running run can be ${target}`);
  }

  resumeRun(req: { id: number }): RunSummary {
    const run = this.runRow(req.id);
    if (!RESUMABLE.has(run.status)) {
      const hint = run.status === 'completed' ? '; fork it to train further' : run.status === 'failed' ? '; fork it from a snapshot with other hyperparameters' : '';
      throw new ServiceError('conflict', `run ${run.id} is ${run.status}; only a paused, stopped or interrupted run can be resumed${hint}`);
    }
    const snapshot = this.store.latestSnapshot(run.id);
    if (snapshot && weightsFromStateHeaderDone(snapshot.state)) {
      throw new ServiceError('conflict', `run ${run.id} already finished its training (its last snapshot is final)`);
    }
    // A crashed attempt may have written metrics after its last snapshot; the resume rewrites them.
    this.store.rewindTo(run.id, snapshot ?? null);
    this.setStatus(run.id, 'queued');
    this.schedule(run.id);
    return this.runSummary(run.id);
  }

  listRuns(req?: { datasetId?: number; status?: RunStatus; limit?: number } | void): RunSummary[] {
    return this.store.listRuns(req ?? {});
  }

  getRun(req: { id: number; batches?: boolean }): RunDetail {
    const run = this.runRow(req.id);
    const lineage: RunDetail['lineage'] = [];
    const seen = new Set<number>([run.id]);
    let cursor: RunRow | undefined = run;
    while (cursor && cursor.parentRunId !== null && !seen.has(cursor.parentRunId)) {
      seen.add(cursor.parentRunId);
      const snap: number | null = cursor.parentSnapshotId;
      const epoch = snap !== null ? this.store.snapshots(cursor.parentRunId).find((s) => s.id === snap)?.epoch ?? null : null;
      lineage.push({ runId: cursor.parentRunId, snapshotId: snap, epoch });
      cursor = this.store.getRun(cursor.parentRunId);
    }
    return {
      ...run,
      epochs: this.store.epochs(run.id),
      batches: req.batches === false ? [] : this.store.batches(run.id),
      snapshots: this.store.snapshots(run.id),
      evaluations: this.store.evaluations(run.id),
      lineage,
      children: this.store.childRuns(run.id),
    };
  }

  /** Finds a run by id or unique name. */
  findRun(idOrName: string | number): RunSummary {
    const asNumber = Number(idOrName);
    if (Number.isInteger(asNumber)) {
      const r = this.store.getRun(asNumber);
      if (r) return this.runSummary(r.id);
    }
    const matches = this.store.listRuns().filter((r) => r.name === String(idOrName));
    if (matches.length === 1) return matches[0]!;
    throw new ServiceError('not_found', matches.length > 1 ? `${matches.length} runs are named ${JSON.stringify(idOrName)}; use the id` : `no run with id or name ${JSON.stringify(idOrName)}`);
  }

  updateRun(req: { id: number; name?: string; notes?: string; tags?: string[] }): RunSummary {
    const run = this.runRow(req.id);
    if (req.tags !== undefined && (!Array.isArray(req.tags) || !req.tags.every((t) => typeof t === 'string'))) {
      throw new ServiceError('bad_request', 'tags must be an array of strings');
    }
    if (req.name !== undefined && (typeof req.name !== 'string' || req.name.trim() === '')) throw new ServiceError('bad_request', 'a run name cannot be empty');
    this.store.updateRunInfo(run.id, { name: req.name, notes: req.notes, tags: req.tags });
    return this.runSummary(run.id);
  }

  deleteRun(req: { id: number }): { deleted: true } {
    const run = this.runRow(req.id);
    if (this.pool.isRunning(run.id)) throw new ServiceError('conflict', `run ${run.id} is running; pause or stop it first`);
    this.pool.dequeue(run.id);
    this.finishActive(run.id);
    this.store.deleteRun(run.id);
    return { deleted: true };
  }

  compareRuns(req: { ids: number[] }): CompareResponse {
    if (!Array.isArray(req?.ids) || req.ids.length < 2) throw new ServiceError('bad_request', 'compare needs two or more run ids');
    const runs = req.ids.map((id) => this.runRow(id));
    const ids = runs.map((r) => r.id);
    const epochsByRun = this.store.epochsOfRuns(ids);
    const maxEpoch = Math.max(0, ...[...epochsByRun.values()].map((rows) => rows.reduce((m, r) => Math.max(m, r.epoch), 0)));
    const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
    const series: CompareResponse['series'] = {};
    for (const r of runs) {
      const byEpoch = new Map(epochsByRun.get(r.id)!.map((row) => [row.epoch, row]));
      const col = (f: (row: NonNullable<ReturnType<typeof byEpoch.get>>) => number | null) => epochs.map((e) => {
        const row = byEpoch.get(e);
        return row ? f(row) : null;
      });
      series[r.id] = {
        trainLoss: col((x) => x.trainLoss), trainAccuracy: col((x) => x.trainAccuracy), valLoss: col((x) => x.valLoss),
        valAccuracy: col((x) => x.valAccuracy), learningRate: col((x) => x.learningRate),
      };
    }
    const flat = runs.map((r) => flatten({ ...r.hyperparameters, dataset: r.datasetName }));
    const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
    const hyperparameterDiffs = paths
      .map((path) => ({ path, values: flat.map((f) => (f.has(path) ? f.get(path) : null)) }))
      .filter((d) => new Set(d.values.map((v) => JSON.stringify(v))).size > 1);
    const shapes = runs.map((r) => inferShapes(r.spec));
    const layerCount = Math.max(...shapes.map((s) => s.layers.length));
    const describe = (s: ShapeReport, i: number, spec: ModelSpec): string | null => {
      const l = s.layers[i];
      if (!l) return null;
      return `${describeLayer(spec.layers[i]!)} → ${l.outputShape.join('×')} (${l.params} params)`;
    };
    const architectureRows = Array.from({ length: layerCount }, (_, i) => ({ layer: i + 1, values: shapes.map((s, k) => describe(s, i, runs[k]!.spec)) }));
    const architectureDiffs = architectureRows.filter((row) => new Set(row.values).size > 1);
    const inputDiff = new Set(runs.map((r) => r.spec.inputShape.join('×')));
    const evals = this.store.latestEvaluations(ids);
    const classNames = this.datasetRow(runs[0]!.datasetId).classNames;
    const perClass = classNames.map((className, c) => {
      const pick = (f: 'f1' | 'precision' | 'recall') => runs.map((r) => evals.get(r.id)?.perClass[c]?.[f] ?? null);
      return { className, f1: pick('f1'), precision: pick('precision'), recall: pick('recall') };
    });
    return {
      runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status, specHash: r.specHash, datasetId: r.datasetId })),
      epochs, series, hyperparameterDiffs, architectureDiffs,
      sameArchitecture: new Set(runs.map((r) => r.specHash)).size === 1 || (architectureDiffs.length === 0 && inputDiff.size === 1),
      perClass,
      testAccuracy: runs.map((r) => evals.get(r.id)?.accuracy ?? null),
    };
  }

  async evaluateRun(req: EvaluateRunRequest): Promise<EvaluationInfo> {
    const run = this.runRow(req.runId);
    const d = req.datasetId !== undefined ? this.datasetRow(req.datasetId) : this.datasetRow(run.datasetId);
    if (d.id !== run.datasetId) this.checkSpec(run.spec, d);
    const snapshot = req.snapshotId !== undefined ? this.store.snapshot(req.snapshotId) : this.store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) {
      throw new ServiceError('not_found', req.snapshotId !== undefined ? `run ${run.id} has no snapshot ${req.snapshotId}` : `run ${run.id} has no snapshot yet: train at least one epoch first`);
    }
    const ownSplit = d.id === run.datasetId;
    const split = req.split ?? (d.testCount > 0 ? 'test' : ownSplit && run.hyperparameters.validationSplit > 0 ? 'validation' : 'train');
    if (split === 'test' && d.testCount === 0) throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} has no test set; evaluate on 'validation' or 'train'`);
    const result = await new Promise<Extract<WorkerMessage, { type: 'evaluated' }>>((resolvePromise, reject) => {
      const worker = runInWorker(this.workerFactory, {
        type: 'evaluate',
        data: {
          cacheFile: d.cacheFile,
          validationSplit: ownSplit ? run.hyperparameters.validationSplit : 0,
          splitSeed: run.hyperparameters.seed, trainLimit: null,
        },
        split, state: snapshot.state, kernels: run.hyperparameters.kernels, classNames: d.classNames,
        maxMisclassified: this.maxMisclassified,
      }, {
        onMessage: (m) => {
          if (m.type === 'evaluated') resolvePromise(m);
          else if (m.type === 'failed') reject(new ServiceError('internal', `evaluation of run ${run.id} failed: ${m.message}`));
        },
        onCrash: (message) => reject(new ServiceError('internal', `evaluation of run ${run.id} failed: ${message}`)),
      });
      this.evaluations.set(worker, {
        runId: run.id,
        cancel: () => {
          reject(new ServiceError('cancelled', `evaluation of run ${run.id} cancelled`));
          void worker.terminate();
        },
      });
      worker.once('exit', () => this.evaluations.delete(worker));
    });
    if (this.closed) throw new ServiceError('cancelled', 'the service closed during the evaluation');
    return this.store.insertEvaluation({
      runId: run.id, datasetId: d.id, snapshotId: snapshot.id, split, accuracy: result.accuracy, loss: result.loss, count: result.count,
      perClass: result.perClass, confusion: result.confusion, misclassified: result.misclassified,
    });
  }

  cancelEvaluation(req: { runId: number }): { cancelled: boolean } {
    let cancelled = false;
    for (const [worker, e] of this.evaluations) {
      if (e.runId !== Number(req.runId)) continue;
      this.evaluations.delete(worker);
      e.cancel();
      cancelled = true;
    }
    return { cancelled };
  }

  exportRun(req: ExportRunRequest): ExportRunResponse {
    const run = this.runRow(req.runId);
    const d = this.datasetRow(run.datasetId);
    const files: { name: string; bytes: Uint8Array }[] = [];
    const stem = req.outPath ? basename(req.outPath, extname(req.outPath)) : `run-${run.id}`;
    if (req.format === 'csv') {
      files.push({ name: `${stem}.csv`, bytes: new TextEncoder().encode(metricsCsv(this.store.epochs(run.id).map((e) => ({ ...e, wallSeconds: e.wallTime })))) });
    } else if (req.format === 'json' || req.format === 'onnx') {
      const snapshot = req.snapshotId !== undefined ? this.store.snapshot(req.snapshotId) : this.store.latestSnapshot(run.id);
      if (!snapshot || snapshot.runId !== run.id) throw new ServiceError('not_found', `run ${run.id} has no snapshot to export${req.snapshotId !== undefined ? ` with id ${req.snapshotId}` : ' yet'}`);
      const { spec, weights } = weightsFromState(snapshot.state);
      const meta = { name: run.name, classNames: d.classNames, producerVersion: ENGINE_VERSION };
      if (req.format === 'onnx') {
        files.push({ name: `${stem}.onnx`, bytes: exportOnnx(spec, weights, meta) });
      } else {
        const weightsFile = `${stem}.bin`;
        const provenance = { runId: run.id, snapshotId: snapshot.id, epoch: snapshot.epoch, dataset: d.name, hyperparameters: run.hyperparameters };
        const { json, bin } = exportModelJson(spec, weights, { ...meta, weightsFile, provenance });
        files.push({ name: `${stem}.json`, bytes: new TextEncoder().encode(json) }, { name: weightsFile, bytes: bin });
      }
    } else {
      throw new ServiceError('bad_request', `export format must be json, onnx or csv, got ${JSON.stringify(req.format)}`);
    }
    if (!req.outPath) return { files: files.map((f) => ({ name: f.name, path: null, bytes: f.bytes.length, base64: Buffer.from(f.bytes).toString('base64') })) };
    const dir = dirname(resolve(req.outPath));
    mkdirSync(dir, { recursive: true });
    return {
      files: files.map((f, i) => {
        const path = i === 0 ? resolve(req.outPath!) : join(dir, f.name);
        writeFileSync(path, f.bytes);
        return { name: f.name, path, bytes: f.bytes.length };
      }),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Training bookkeeping

  private runRow(id: number): RunRow {
    const r = this.store.getRun(Number(id));
    if (!r) throw new ServiceError('not_found', `no run with id ${id}`);
    return r;
  }

  private runSummary(id: number): RunSummary {
    const { spec: _spec, ...summary } = this.runRow(id);
    return summary;
  }

  private setStatus(id: number, status: RunStatus, error: string | null = null, stopReason: string | null = null): void {
    const before = this.store.getRun(id);
    if (!before) return;
    this.store.setStatus(id, status, error, stopReason);
    const after = this.store.getRun(id)!;
    this.emit('runStatus', { runId: id, status, previous: before.status, error, stopReason: after.stopReason, kernelsUsed: after.kernelsUsed });
  }

  private finishActive(id: number): void {
    const a = this.active.get(id);
    if (!a) return;
    this.active.delete(id);
    a.resolveFinished();
  }

  /** Queues the run's next stretch of training: from its latest snapshot, its fork parent's, or scratch. */
  private schedule(runId: number): void {
    let resolveFinished!: () => void;
    const finished = new Promise<void>((r) => (resolveFinished = r));
    const active: ActiveRun = { runId, pendingBatches: [], lastWallTime: 0, epochs: 0, finished, resolveFinished };
    this.active.set(runId, active);
    this.pool.enqueue(runId, (control) => {
      const run = this.runRow(runId);
      const snapshot = this.store.latestSnapshot(runId);
      active.lastWallTime = run.trainSeconds;
      active.epochs = run.hyperparameters.epochs;
      const d = this.datasetRow(run.datasetId);
      const h = run.hyperparameters;
      const job: TrainJob = {
        type: 'train', runId,
        data: { cacheFile: d.cacheFile, validationSplit: h.validationSplit, splitSeed: h.seed, trainLimit: h.trainLimit },
        spec: run.spec, config: toTrainConfig(h), seed: h.seed, kernels: h.kernels, threads: h.threads ?? 1, progressEvery: h.progressEvery,
        wallTimeOffset: run.trainSeconds, control,
      };
      if (snapshot) job.state = snapshot.state;
      else if (run.parentSnapshotId !== null) job.initialWeights = weightsFromState(this.store.snapshot(run.parentSnapshotId)!.state).weights;
      else if (run.parentRunId !== null) throw new Error(`the snapshot run ${runId} was forked from no longer exists`);
      return job;
    }, {
      onMessage: (m) => this.onWorkerMessage(active, m),
      onCrash: (message) => {
        this.flush();
        this.setStatus(runId, 'failed', message);
        this.finishActive(runId);
      },
    });
  }

  private onWorkerMessage(a: ActiveRun, m: WorkerMessage): void {
    const runId = a.runId;
    switch (m.type) {
      case 'started':
        this.store.setKernelsUsed(runId, m.kernels);
        this.setStatus(runId, 'running');
        return;
      case 'batch': {
        const e = m.event;
        const row = { runId, epoch: e.epoch + 1, batch: e.batch + 1, step: e.step, loss: e.loss, accuracy: e.accuracy, learningRate: e.learningRate, wallTime: m.wallTime };
        a.pendingBatches.push(row);
        this.scheduleFlush();
        this.emit('runProgress', { runId, kind: 'batch', epoch: e.epoch + 1, batch: e.batch + 1, batchesPerEpoch: e.batchesPerEpoch, step: e.step, loss: e.loss, accuracy: e.accuracy, learningRate: e.learningRate });
        return;
      }
      case 'epoch': {
        const x = m.metrics;
        const metrics = {
          epoch: x.epoch + 1, step: m.step, trainLoss: x.trainLoss, trainAccuracy: x.trainAccuracy, valLoss: x.valLoss, valAccuracy: x.valAccuracy,
          learningRate: x.learningRate, imagesPerSecond: x.imagesPerSecond, seconds: x.seconds, wallTime: m.wallTime,
        };
        const pending = a.pendingBatches.splice(0);
        const snapshotId = this.store.commitEpoch({
          runId, metrics, improved: x.improved, bestEpoch: m.bestEpoch >= 0 ? m.bestEpoch + 1 : null, state: m.state, kind: 'epoch',
          trainSeconds: m.wallTime - a.lastWallTime, pendingBatches: pending,
        });
        a.lastWallTime = m.wallTime;
        this.emit('runProgress', { runId, kind: 'epoch', ...metrics, epochs: a.epochs, improved: x.improved, snapshotId });
        return;
      }
      case 'ended': {
        const pending = a.pendingBatches.splice(0);
        if (m.state) {
          this.store.insertSnapshot(runId, m.epoch, m.step, m.reason === 'paused' ? 'pause' : 'stop', m.state, pending, m.wallTime - a.lastWallTime);
        } else {
          this.store.insertBatches(pending);
          this.store.addTrainSeconds(runId, m.wallTime - a.lastWallTime);
        }
        a.lastWallTime = m.wallTime;
        if (m.reason === 'paused') this.setStatus(runId, 'paused');
        else if (m.reason === 'stopped') this.setStatus(runId, 'stopped', null, 'stopped');
        else this.setStatus(runId, 'completed', null, m.reason);
        this.finishActive(runId);
        return;
      }
      case 'failed':
        this.store.insertBatches(a.pendingBatches.splice(0));
        this.setStatus(runId, 'failed', m.message, m.code);
        this.finishActive(runId);
        return;
      case 'evaluated':
        return;
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.flushIntervalMs);
  }

  /** Writes every buffered batch row in one transaction. */
  flush(): void {
    if (!this.store.db.open) return;
    const rows = [...this.active.values()].flatMap((a) => a.pendingBatches.splice(0));
    this.store.insertBatches(rows);
  }

  /** Resolves when the run reaches a status that is not queued or running. */
  async waitForRun(id: number): Promise<RunSummary> {
    const a = this.active.get(id);
    if (a) await a.finished;
    return this.runSummary(id);
  }
}

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_NAMES);

function publicDataset(d: DatasetRow): DatasetInfo {
  const { cacheFile: _cacheFile, ...info } = d;
  return info;
}

function weightsFromStateHeaderDone(state: Uint8Array): boolean {
  // The header's `done` is JSON near the start; decoding the container checks the CRC as well.
  try {
    const headerLength = new DataView(state.buffer, state.byteOffset, state.byteLength).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(state.subarray(12, 12 + headerLength))) as { done?: boolean };
    return header.done === true;
  } catch {
    return false;
  }
}

function specDatasetMismatch(spec: ModelSpec, report: ShapeReport, d: DatasetRow): { message: string; layerIndex: number | null } | null {
  const [h, w, c] = spec.inputShape;
  if (h !== d.shape[0] || w !== d.shape[1] || c !== d.shape[2]) {
    return { message: `the model's input is ${h}×${w}×${c} but dataset ${JSON.stringify(d.name)} has ${d.shape.join('×')} images`, layerIndex: null };
  }
  if (report.classes !== d.classNames.length) {
    const last = report.layers[report.layers.length - 1]!;
    return { message: `${last.label}: the classifier has ${report.classes} units but dataset ${JSON.stringify(d.name)} has ${d.classNames.length} classes`, layerIndex: last.index };
  }
  return null;
}

function describeLayer(l: ModelSpec['layers'][number]): string {
  switch (l.type) {
    case 'conv2d': {
      const k = Array.isArray(l.kernelSize) ? l.kernelSize.join('×') : `${l.kernelSize}×${l.kernelSize}`;
      const s = l.stride !== undefined && l.stride !== 1 ? ` s${Array.isArray(l.stride) ? l.stride.join('×') : l.stride}` : '';
      return `conv ${l.filters} ${k}${s}${l.padding === 'same' ? ' same' : ''}${l.activation === 'linear' ? ' linear' : ''}`;
    }
    case 'maxpool2d': return `maxpool ${Array.isArray(l.poolSize) ? l.poolSize.join('×') : l.poolSize}`;
    case 'flatten': return 'flatten';
    case 'dense': return `dense ${l.units}${l.activation ? ' ' + l.activation : ''}`;
    case 'dropout': return `dropout ${l.rate}`;
  }
}

export function describeSpec(spec: ModelSpec): string {
  return spec.layers.filter((l) => l.type !== 'flatten').map(describeLayer).join(' → ');
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

