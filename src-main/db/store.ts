/**
 * The one writer of the database: typed statements over better-sqlite3, prepared once. Only the
 * service's main thread holds a Store; workers never open the file.
 */
import Database from 'better-sqlite3';
import {
  withDefaults,
  type BatchMetricsRow, type DatasetInfo, type EarlyStoppingMonitor, type EpochMetricsRow, type EvaluationInfo, type Hyperparameters,
  type ModelSpec, type RunStatus, type RunSummary, type SnapshotInfo, type SweepInfo, type SweepSpace,
} from '../contract/index.js';
import type { ImportOptions } from '../datasets/types.js';
import type { HealthRecord, LayerHealth, NonFiniteStep } from '../../src-engine/inspect/index.js';
import type { ImportedDataset } from '../datasets/types.js';
import { migrate } from './schema.js';

/** A dataset row as written: the import result minus what only the import itself needs. */
export type NewDataset = Omit<ImportedDataset, 'reused' | 'innerFormat' | 'cacheBytes' | 'recognizedAs'> & {
  /** What a re-import passes again (its options but the name). */
  importOptions?: DatasetImportOptions;
};

/** The options an import was made with, kept so that a re-import makes the same content. */
export type DatasetImportOptions = Pick<ImportOptions, 'mixedSizes' | 'resizeTo' | 'channels' | 'classNames'>;

export interface DatasetRow extends DatasetInfo {
  cacheFile: string;
  importOptions: DatasetImportOptions;
}

export interface NewRun {
  name: string;
  /** The owner token of the process that queues it (owners.token); none for a run written by a tool. */
  owner?: string | null;
  datasetId: number;
  spec: ModelSpec;
  specHash: string;
  totalParams: number;
  hyperparameters: Hyperparameters;
  status: RunStatus;
  engineVersion: string;
  parentRunId: number | null;
  parentSnapshotId: number | null;
  notes: string;
  tags: string[];
  /** A fork's numbering continues its parent's (default 0). */
  epochOffset?: number;
  stepOffset?: number;
  sweepId?: number | null;
}

export type NewSweep = Omit<SweepInfo, 'id' | 'createdAt'>;

export interface RunRow extends RunSummary {
  spec: ModelSpec;
}

export interface EpochCommit {
  runId: number;
  metrics: EpochMetricsRow;
  improved: boolean;
  bestEpoch: number | null;
  state: Uint8Array;
  kind: SnapshotInfo['kind'];
  /** Seconds of training to add to the run's total. */
  trainSeconds: number;
  pendingBatches: PendingBatchRow[];
}

/** A batch row waiting to be written, with the training-health measurement taken at that step, if one was. */
export type PendingBatchRow = BatchMetricsRow & { runId: number; health?: LayerHealth[] };

export type NewEvaluation = Omit<EvaluationInfo, 'id' | 'createdAt'>;

/** A process that has the library open (see owner-lock.ts for how its liveness is told). */
export interface OwnerRow {
  token: string;
  pid: number;
  label: string;
  startedAt: string;
}

/** A run the database says is queued or running, and which process said so. */
export interface ActiveRunRow {
  id: number;
  status: 'queued' | 'running';
  owner: string | null;
}

const now = () => new Date().toISOString();

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;

function datasetFromRow(r: Row): DatasetRow {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    format: r.format,
    shape: [r.height, r.width, r.channels],
    classNames: JSON.parse(r.class_names),
    trainCount: r.train_count,
    testCount: r.test_count,
    countsPerClass: JSON.parse(r.counts_per_class),
    contentHash: r.content_hash,
    lint: JSON.parse(r.lint),
    createdAt: r.created_at,
    runCount: r.run_count ?? 0,
    notes: r.notes,
    tags: JSON.parse(r.tags),
    // the library checks the file (DatasetLibrary); the row alone cannot say
    cacheProblem: null,
    cacheFile: r.cache_file,
    importOptions: JSON.parse(r.import_options),
  };
}

function runFromRow(r: Row): RunSummary {
  return {
    id: r.id,
    name: r.name,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name ?? '',
    status: r.status,
    specHash: r.spec_hash,
    totalParams: r.total_params,
    hyperparameters: withDefaults(JSON.parse(r.hyperparameters)),
    kernelsUsed: r.kernels_used,
    engineVersion: r.engine_version,
    parentRunId: r.parent_run_id,
    parentSnapshotId: r.parent_snapshot_id,
    notes: r.notes,
    tags: JSON.parse(r.tags),
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    trainSeconds: r.train_seconds,
    epochsDone: r.epochs_done,
    bestEpoch: r.best_epoch,
    lastValAccuracy: r.last_val_accuracy,
    lastTrainLoss: r.last_train_loss,
    testAccuracy: r.test_accuracy,
    stopReason: r.stop_reason,
    bestValAccuracy: r.best_val_accuracy,
    bestMonitor: r.best_monitor as EarlyStoppingMonitor | null,
    bestMonitorValue: r.best_monitor_value ?? null,
    epochOffset: r.epoch_offset,
    stepOffset: r.step_offset,
    sweepId: r.sweep_id,
  };
}

const sweepFromRow = (r: Row): SweepInfo => ({
  id: r.id, name: r.name, datasetId: r.dataset_id, baseRunId: r.base_run_id, kind: r.kind, space: JSON.parse(r.space) as SweepSpace,
  maxRuns: r.max_runs, seed: r.seed, parallel: r.parallel, createdAt: r.created_at,
});

const epochFromRow = (r: Row): EpochMetricsRow => ({
  epoch: r.epoch, step: r.step, trainLoss: r.train_loss, trainAccuracy: r.train_accuracy, valLoss: r.val_loss,
  valAccuracy: r.val_accuracy, learningRate: r.learning_rate, imagesPerSecond: r.images_per_second, seconds: r.seconds,
  wallTime: r.wall_time,
});

const snapshotFromRow = (r: Row): SnapshotInfo => ({
  id: r.id, runId: r.run_id, epoch: r.epoch, batch: r.batch, step: r.step, kind: r.kind, isBest: !!r.is_best, bytes: r.bytes, createdAt: r.created_at,
});

const evaluationFromRow = (r: Row): EvaluationInfo => ({
  id: r.id, runId: r.run_id, datasetId: r.dataset_id, snapshotId: r.snapshot_id, split: r.split, accuracy: r.accuracy,
  loss: r.loss, count: r.count, perClass: JSON.parse(r.per_class), confusion: JSON.parse(r.confusion),
  misclassified: JSON.parse(r.misclassified), createdAt: r.created_at,
});

const RUN_COLUMNS = `r.id, r.name, r.dataset_id, d.name AS dataset_name, r.status, r.spec_hash, r.total_params, r.hyperparameters,
  r.kernels_used, r.engine_version, r.parent_run_id, r.parent_snapshot_id, r.notes, r.tags, r.error, r.created_at,
  r.started_at, r.finished_at, r.train_seconds, r.epochs_done, r.best_epoch, r.last_val_accuracy, r.last_train_loss,
  r.test_accuracy, r.stop_reason, r.best_val_accuracy, r.best_monitor, r.epoch_offset, r.step_offset, r.sweep_id,
  (SELECT CASE r.best_monitor WHEN 'valLoss' THEN m.val_loss WHEN 'valAccuracy' THEN m.val_accuracy ELSE m.train_loss END
   FROM epoch_metrics m WHERE m.run_id = r.id AND m.epoch = r.best_epoch) AS best_monitor_value`;

/** The library file fails `PRAGMA integrity_check`; it was not written to. */
export class DamagedLibraryError extends Error {
  constructor(readonly problems: string[]) {
    super(`the library fails its integrity check: ${problems[0]}`);
    this.name = 'DamagedLibraryError';
  }
}

export class Store {
  readonly db: Database.Database;
  readonly schemaVersion: number;
  private readonly s;

  /** `checkIntegrity`: refuse (DamagedLibraryError) a file that fails its integrity check, before migrating writes to it. */
  constructor(path: string, options: { checkIntegrity?: boolean } = {}) {
    this.db = new Database(path);
    try {
      // First, so that every step below waits for another process's write lock instead of failing.
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a killed process (not a power cut) and keeps commits cheap.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      if (options.checkIntegrity) {
        const problems = this.integrityProblems();
        if (problems.length > 0) throw new DamagedLibraryError(problems);
      }
      this.schemaVersion = migrate(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
    const db = this.db;
    this.s = {
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertDataset: db.prepare(`INSERT INTO datasets (name, source, format, height, width, channels, class_names, train_count,
        test_count, counts_per_class, content_hash, cache_file, lint, import_options, created_at)
        VALUES (@name, @source, @format, @height, @width, @channels, @class_names, @train_count, @test_count,
        @counts_per_class, @content_hash, @cache_file, @lint, @import_options, @created_at)`),
      updateDataset: db.prepare(`UPDATE datasets SET name = COALESCE(@name, name), class_names = COALESCE(@class_names, class_names),
        notes = COALESCE(@notes, notes), tags = COALESCE(@tags, tags) WHERE id = @id`),
      runIdsOfDataset: db.prepare('SELECT id FROM runs WHERE dataset_id = ? ORDER BY id').pluck(),
      listDatasets: db.prepare(`SELECT d.*, (SELECT COUNT(*) FROM runs r WHERE r.dataset_id = d.id) AS run_count FROM datasets d ORDER BY d.id`),
      getDataset: db.prepare(`SELECT d.*, (SELECT COUNT(*) FROM runs r WHERE r.dataset_id = d.id) AS run_count FROM datasets d WHERE d.id = ?`),
      datasetByHash: db.prepare(`SELECT d.*, 0 AS run_count FROM datasets d WHERE d.content_hash = ?`),
      datasetByName: db.prepare(`SELECT d.*, 0 AS run_count FROM datasets d WHERE d.name = ?`),
      datasetNames: db.prepare(`SELECT name FROM datasets`).pluck(),
      deleteDataset: db.prepare('DELETE FROM datasets WHERE id = ?'),
      cacheFileUsers: db.prepare('SELECT COUNT(*) FROM datasets WHERE cache_file = ?').pluck(),

      insertRun: db.prepare(`INSERT INTO runs (name, dataset_id, spec, spec_hash, total_params, hyperparameters, seed, status,
        engine_version, parent_run_id, parent_snapshot_id, notes, tags, created_at, owner, epoch_offset, step_offset, epochs_done, sweep_id)
        VALUES (@name, @dataset_id, @spec, @spec_hash, @total_params, @hyperparameters, @seed, @status, @engine_version,
        @parent_run_id, @parent_snapshot_id, @notes, @tags, @created_at, @owner, @epoch_offset, @step_offset, @epoch_offset, @sweep_id)`),
      setBestMonitor: db.prepare('UPDATE runs SET best_monitor = ? WHERE id = ?'),
      getRun: db.prepare(`SELECT ${RUN_COLUMNS}, r.spec FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?`),
      listRuns: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN datasets d ON d.id = r.dataset_id
        WHERE (@dataset_id IS NULL OR r.dataset_id = @dataset_id) AND (@status IS NULL OR r.status = @status)
        ORDER BY r.id DESC LIMIT @limit`),
      runOwner: db.prepare('SELECT owner FROM runs WHERE id = ?').pluck(),
      activeRuns: db.prepare(`SELECT id, status, owner FROM runs WHERE status IN ('queued', 'running') ORDER BY id`),
      // A run that is neither queued nor running has no owner.
      setStatus: db.prepare(`UPDATE runs SET status = @status, error = @error, stop_reason = COALESCE(@stop_reason, stop_reason),
        finished_at = CASE WHEN @status IN ('completed', 'stopped', 'failed') THEN @now ELSE finished_at END,
        started_at = CASE WHEN @status = 'running' THEN COALESCE(started_at, @now) ELSE started_at END,
        owner = CASE WHEN @status IN ('queued', 'running') THEN owner ELSE NULL END
        WHERE id = @id`),
      // Only while `owner` still has it: two processes judging the same dead owner change it once.
      releaseRun: db.prepare(`UPDATE runs SET status = @status, error = @error, stop_reason = COALESCE(@stop_reason, stop_reason),
        finished_at = CASE WHEN @status IN ('completed', 'stopped', 'failed') THEN @now ELSE finished_at END, owner = NULL
        WHERE id = @id AND status IN ('queued', 'running') AND owner IS @owner`),
      claimRun: db.prepare(`UPDATE runs SET status = 'queued', error = NULL, owner = @owner
        WHERE id = @id AND (status IN ('paused', 'stopped', 'interrupted') OR (status IN ('queued', 'running') AND owner = @owner))`),
      insertOwner: db.prepare('INSERT INTO owners (token, pid, label, started_at) VALUES (?, ?, ?, ?)'),
      getOwner: db.prepare('SELECT token, pid, label, started_at FROM owners WHERE token = ?'),
      ownerTokens: db.prepare('SELECT token FROM owners').pluck(),
      deleteOwner: db.prepare('DELETE FROM owners WHERE token = ?'),
      setKernelsUsed: db.prepare('UPDATE runs SET kernels_used = ? WHERE id = ?'),
      updateRunInfo: db.prepare(`UPDATE runs SET name = COALESCE(@name, name), notes = COALESCE(@notes, notes),
        tags = COALESCE(@tags, tags) WHERE id = @id`),
      deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
      childRuns: db.prepare('SELECT id FROM runs WHERE parent_run_id = ? ORDER BY id').pluck(),
      addTrainSeconds: db.prepare('UPDATE runs SET train_seconds = train_seconds + ? WHERE id = ?'),
      setTestAccuracy: db.prepare('UPDATE runs SET test_accuracy = ? WHERE id = ?'),
      runEpochUpdate: db.prepare(`UPDATE runs SET epochs_done = @epoch, last_val_accuracy = @val_accuracy,
        last_train_loss = @train_loss, best_epoch = COALESCE(@best_epoch, best_epoch), train_seconds = train_seconds + @seconds,
        best_val_accuracy = CASE WHEN @val_accuracy IS NULL THEN best_val_accuracy ELSE MAX(COALESCE(best_val_accuracy, @val_accuracy), @val_accuracy) END
        WHERE id = @id`),

      insertEpoch: db.prepare(`INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, step, train_loss, train_accuracy, val_loss,
        val_accuracy, learning_rate, images_per_second, seconds, wall_time)
        VALUES (@run_id, @epoch, @step, @train_loss, @train_accuracy, @val_loss, @val_accuracy, @learning_rate,
        @images_per_second, @seconds, @wall_time)`),
      insertBatch: db.prepare(`INSERT OR REPLACE INTO batch_metrics (run_id, step, epoch, batch, loss, accuracy, learning_rate, wall_time)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      epochs: db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch'),
      epochsOfRuns: db.prepare(`SELECT * FROM epoch_metrics WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, epoch`),
      batches: db.prepare('SELECT * FROM batch_metrics WHERE run_id = ? ORDER BY step'),
      deleteEpochsAfter: db.prepare('DELETE FROM epoch_metrics WHERE run_id = ? AND epoch > ?'),
      deleteBatchesAfter: db.prepare('DELETE FROM batch_metrics WHERE run_id = ? AND step > ?'),
      insertHealth: db.prepare('INSERT OR REPLACE INTO health_metrics (run_id, step, epoch, batch, kind, data) VALUES (?, ?, ?, ?, ?, ?)'),
      health: db.prepare("SELECT step, epoch, batch, data FROM health_metrics WHERE run_id = ? AND kind = 'step' ORDER BY step"),
      healthFailure: db.prepare("SELECT step, epoch, batch, data FROM health_metrics WHERE run_id = ? AND kind = 'nonfinite' ORDER BY step DESC LIMIT 1"),
      deleteHealthAfter: db.prepare('DELETE FROM health_metrics WHERE run_id = ? AND step > ?'),

      insertSnapshot: db.prepare(`INSERT INTO snapshots (run_id, epoch, batch, step, kind, is_best, state, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      // An interval snapshot is only worth keeping until a newer one exists (unless a fork starts from it).
      pruneIntervalSnapshots: db.prepare(`DELETE FROM snapshots WHERE run_id = @run_id AND kind = 'interval' AND id < @keep
        AND id NOT IN (SELECT parent_snapshot_id FROM runs WHERE parent_snapshot_id IS NOT NULL)
        AND id NOT IN (SELECT snapshot_id FROM evaluations WHERE snapshot_id IS NOT NULL)`),
      clearBest: db.prepare('UPDATE snapshots SET is_best = 0 WHERE run_id = ? AND is_best = 1'),
      markBestEpoch: db.prepare(`UPDATE snapshots SET is_best = 1 WHERE id = (SELECT id FROM snapshots WHERE run_id = ? AND epoch = ?
        AND kind = 'epoch' ORDER BY id DESC LIMIT 1)`),
      snapshots: db.prepare(`SELECT id, run_id, epoch, batch, step, kind, is_best, length(state) AS bytes, created_at FROM snapshots
        WHERE run_id = ? ORDER BY id`),
      snapshot: db.prepare(`SELECT id, run_id, epoch, batch, step, kind, is_best, length(state) AS bytes, created_at, state FROM snapshots WHERE id = ?`),
      latestSnapshotId: db.prepare('SELECT id FROM snapshots WHERE run_id = ? ORDER BY id DESC LIMIT 1').pluck(),
      deleteSnapshotsAfter: db.prepare('DELETE FROM snapshots WHERE run_id = ? AND id > ?'),

      insertEvaluation: db.prepare(`INSERT INTO evaluations (run_id, dataset_id, snapshot_id, split, accuracy, loss, count, per_class,
        confusion, misclassified, predictions, top_predictions, created_at) VALUES (@run_id, @dataset_id, @snapshot_id, @split, @accuracy,
        @loss, @count, @per_class, @confusion, @misclassified, @predictions, @top_predictions, @created_at)`),
      predictions: db.prepare('SELECT predictions FROM evaluations WHERE id = ?').pluck(),
      topPredictions: db.prepare('SELECT top_predictions FROM evaluations WHERE id = ?').pluck(),
      evaluationOfSnapshot: db.prepare(`SELECT * FROM evaluations WHERE snapshot_id = ? AND dataset_id = ? AND split = ?
        AND predictions IS NOT NULL AND top_predictions IS NOT NULL ORDER BY id DESC LIMIT 1`),
      insertSweep: db.prepare(`INSERT INTO sweeps (name, dataset_id, base_run_id, kind, space, max_runs, seed, parallel, created_at)
        VALUES (@name, @dataset_id, @base_run_id, @kind, @space, @max_runs, @seed, @parallel, @created_at)`),
      sweep: db.prepare('SELECT * FROM sweeps WHERE id = ?'),
      sweeps: db.prepare('SELECT * FROM sweeps ORDER BY id DESC'),
      evaluations: db.prepare('SELECT * FROM evaluations WHERE run_id = ? ORDER BY id'),
      evaluation: db.prepare('SELECT * FROM evaluations WHERE id = ?'),
      latestEvaluations: db.prepare(`SELECT e.* FROM evaluations e WHERE e.id IN (SELECT MAX(id) FROM evaluations
        WHERE run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id)`),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  integrityCheck(): string {
    return (this.db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  }

  /** What `PRAGMA integrity_check` finds wrong (at most `max` lines); empty when the file is sound. */
  integrityProblems(max = 10): string[] {
    const lines = (this.db.pragma(`integrity_check(${Math.max(1, Math.floor(max))})`) as { integrity_check: string }[]).map((r) => r.integrity_check);
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  }

  getMeta(key: string): string | undefined {
    return this.s.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }

  // --- datasets

  /**
   * Stores an import unless its content is already in the library (another process may have
   * imported the same files a moment ago): one IMMEDIATE transaction checks the hash, picks a free
   * name and inserts, so concurrent imports never collide on the unique hash or name.
   */
  insertDatasetOnce(d: NewDataset, pickName: (taken: Set<string>) => string): { row: DatasetRow; existing: boolean } {
    return this.db.transaction(() => {
      const existing = this.datasetByHash(d.contentHash);
      if (existing) return { row: existing, existing: true };
      return { row: this.insertDataset({ ...d, name: pickName(this.datasetNames()) }), existing: false };
    }).immediate();
  }

  insertDataset(d: NewDataset): DatasetRow {
    const info = this.s.insertDataset.run({
      name: d.name, source: d.source, format: d.format, height: d.shape[0], width: d.shape[1], channels: d.shape[2],
      class_names: JSON.stringify(d.classNames), train_count: d.trainCount, test_count: d.testCount,
      counts_per_class: JSON.stringify(d.countsPerClass), content_hash: d.contentHash, cache_file: d.cacheFile,
      lint: JSON.stringify(d.lint ?? null), import_options: JSON.stringify(d.importOptions ?? {}), created_at: now(),
    });
    return this.getDataset(Number(info.lastInsertRowid))!;
  }

  listDatasets(): DatasetRow[] {
    return (this.s.listDatasets.all() as Row[]).map(datasetFromRow);
  }

  getDataset(id: number): DatasetRow | undefined {
    const r = this.s.getDataset.get(id) as Row | undefined;
    return r && datasetFromRow(r);
  }

  datasetByHash(hash: string): DatasetRow | undefined {
    const r = this.s.datasetByHash.get(hash) as Row | undefined;
    return r && this.getDataset(r.id);
  }

  datasetByName(name: string): DatasetRow | undefined {
    const r = this.s.datasetByName.get(name) as Row | undefined;
    return r && this.getDataset(r.id);
  }

  datasetNames(): Set<string> {
    return new Set(this.s.datasetNames.all() as string[]);
  }

  deleteDataset(id: number): void {
    this.s.deleteDataset.run(id);
  }

  updateDataset(id: number, fields: { name?: string; classNames?: string[]; notes?: string; tags?: string[] }): void {
    this.s.updateDataset.run({
      id, name: fields.name ?? null, class_names: fields.classNames ? JSON.stringify(fields.classNames) : null, notes: fields.notes ?? null,
      tags: fields.tags ? JSON.stringify(fields.tags) : null,
    });
  }

  runIdsOfDataset(id: number): number[] {
    return this.s.runIdsOfDataset.all(id) as number[];
  }

  /** The dataset and every run on it (their metrics, snapshots and evaluations), in one transaction. */
  deleteDatasetAndRuns(id: number): number[] {
    return this.db.transaction(() => {
      const runs = this.runIdsOfDataset(id);
      for (const run of runs) this.s.deleteRun.run(run);
      this.s.deleteDataset.run(id);
      return runs;
    })();
  }

  cacheFileUsers(cacheFile: string): number {
    return this.s.cacheFileUsers.get(cacheFile) as number;
  }

  // --- runs

  insertRun(r: NewRun): number {
    const info = this.s.insertRun.run({
      name: r.name, dataset_id: r.datasetId, spec: JSON.stringify(r.spec), spec_hash: r.specHash, total_params: r.totalParams,
      hyperparameters: JSON.stringify(r.hyperparameters), seed: r.hyperparameters.seed, status: r.status,
      engine_version: r.engineVersion, parent_run_id: r.parentRunId, parent_snapshot_id: r.parentSnapshotId, notes: r.notes,
      tags: JSON.stringify(r.tags), created_at: now(), owner: r.owner ?? null,
      epoch_offset: r.epochOffset ?? 0, step_offset: r.stepOffset ?? 0, sweep_id: r.sweepId ?? null,
    });
    return Number(info.lastInsertRowid);
  }

  getRun(id: number): RunRow | undefined {
    const r = this.s.getRun.get(id) as Row | undefined;
    return r && { ...runFromRow(r), spec: JSON.parse(r.spec) };
  }

  listRuns(filter: { datasetId?: number; status?: RunStatus; limit?: number } = {}): RunSummary[] {
    const rows = this.s.listRuns.all({ dataset_id: filter.datasetId ?? null, status: filter.status ?? null, limit: filter.limit ?? -1 }) as Row[];
    return rows.map(runFromRow);
  }

  /** The token of the process that queued or trains the run; null when none does. */
  runOwner(id: number): string | null {
    return (this.s.runOwner.get(id) as string | null | undefined) ?? null;
  }

  /** Runs marked queued or running, with the owner token each was marked by. */
  activeRuns(): ActiveRunRow[] {
    return this.s.activeRuns.all() as ActiveRunRow[];
  }

  /**
   * A queued/running run leaves `owner` (gone, or no longer training it) for `status`; false when
   * the run is not (or no longer) that owner's — another process got there first.
   */
  releaseRun(id: number, owner: string | null, status: RunStatus, error: string | null, stopReason: string | null = null): boolean {
    return this.s.releaseRun.run({ id, owner, status, error, stop_reason: stopReason, now: now() }).changes === 1;
  }

  /**
   * Resume: queues a paused/stopped/interrupted run for `owner` and forgets what a crashed attempt
   * wrote after `snapshot`, in one transaction. False when the run was not resumable any more (another
   * process claimed it first): then nothing changed.
   */
  claimForResume(id: number, owner: string, snapshot: { id: number; epoch: number; step: number } | null): boolean {
    return this.db.transaction(() => {
      if (this.s.claimRun.run({ id, owner }).changes !== 1) return false;
      this.rewindTo(id, snapshot);
      return true;
    }).immediate();
  }

  // --- owners

  insertOwner(o: OwnerRow): void {
    this.s.insertOwner.run(o.token, o.pid, o.label, o.startedAt);
  }

  getOwner(token: string): OwnerRow | undefined {
    const r = this.s.getOwner.get(token) as Row | undefined;
    return r && { token: r.token, pid: r.pid, label: r.label, startedAt: r.started_at };
  }

  ownerTokens(): string[] {
    return this.s.ownerTokens.all() as string[];
  }

  deleteOwner(token: string): void {
    this.s.deleteOwner.run(token);
  }

  setStatus(id: number, status: RunStatus, error: string | null = null, stopReason: string | null = null): void {
    this.s.setStatus.run({ id, status, error, stop_reason: stopReason, now: now() });
  }

  setKernelsUsed(id: number, kernels: string): void {
    this.s.setKernelsUsed.run(kernels, id);
  }

  setBestMonitor(id: number, monitor: EarlyStoppingMonitor): void {
    this.s.setBestMonitor.run(monitor, id);
  }

  updateRunInfo(id: number, fields: { name?: string; notes?: string; tags?: string[] }): void {
    this.s.updateRunInfo.run({ id, name: fields.name ?? null, notes: fields.notes ?? null, tags: fields.tags ? JSON.stringify(fields.tags) : null });
  }

  deleteRun(id: number): void {
    this.s.deleteRun.run(id);
  }

  childRuns(id: number): number[] {
    return this.s.childRuns.all(id) as number[];
  }

  addTrainSeconds(id: number, seconds: number): void {
    this.s.addTrainSeconds.run(seconds, id);
  }

  // --- metrics and snapshots

  /** One batch row and the health measurement taken with it (inside the caller's transaction). */
  private writeBatch(b: PendingBatchRow): void {
    this.s.insertBatch.run(b.runId, b.step, b.epoch, b.batch, b.loss, b.accuracy, b.learningRate, b.wallTime);
    if (b.health) this.s.insertHealth.run(b.runId, b.step, b.epoch, b.batch, 'step', JSON.stringify(b.health));
  }

  insertBatches(rows: PendingBatchRow[]): void {
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (const b of rows) this.writeBatch(b);
    })();
  }

  /** An epoch's end: its pending batch rows, its metrics row, its snapshot and the run's summary columns, atomically. */
  commitEpoch(c: EpochCommit): number {
    return this.db.transaction(() => {
      for (const b of c.pendingBatches) this.writeBatch(b);
      const m = c.metrics;
      this.s.insertEpoch.run({
        run_id: c.runId, epoch: m.epoch, step: m.step, train_loss: m.trainLoss, train_accuracy: m.trainAccuracy,
        val_loss: m.valLoss, val_accuracy: m.valAccuracy, learning_rate: m.learningRate, images_per_second: m.imagesPerSecond,
        seconds: m.seconds, wall_time: m.wallTime,
      });
      const id = Number(this.s.insertSnapshot.run(c.runId, m.epoch, 0, m.step, c.kind, 0, c.state, now()).lastInsertRowid);
      this.s.pruneIntervalSnapshots.run({ run_id: c.runId, keep: id });
      if (c.bestEpoch !== null) {
        this.s.clearBest.run(c.runId);
        this.s.markBestEpoch.run(c.runId, c.bestEpoch);
      }
      this.s.runEpochUpdate.run({
        id: c.runId, epoch: m.epoch, val_accuracy: m.valAccuracy, train_loss: m.trainLoss, best_epoch: c.bestEpoch,
        seconds: c.trainSeconds,
      });
      return id;
    })();
  }

  /** A snapshot outside an epoch end (pause, stop, interval), with any pending batch rows; `batch` is
   *  how many batches of epoch `epoch + 1` are done. An interval snapshot replaces the run's previous one. */
  insertSnapshot(runId: number, position: { epoch: number; batch: number; step: number }, kind: SnapshotInfo['kind'], state: Uint8Array,
    pendingBatches: PendingBatchRow[] = [], trainSeconds = 0): number {
    return this.db.transaction(() => {
      for (const b of pendingBatches) this.writeBatch(b);
      if (trainSeconds) this.s.addTrainSeconds.run(trainSeconds, runId);
      const id = Number(this.s.insertSnapshot.run(runId, position.epoch, position.batch, position.step, kind, 0, state, now()).lastInsertRowid);
      this.s.pruneIntervalSnapshots.run({ run_id: runId, keep: id });
      return id;
    })();
  }

  epochs(runId: number): EpochMetricsRow[] {
    return (this.s.epochs.all(runId) as Row[]).map(epochFromRow);
  }

  epochsOfRuns(runIds: number[]): Map<number, EpochMetricsRow[]> {
    const out = new Map<number, EpochMetricsRow[]>(runIds.map((id) => [id, []]));
    for (const r of this.s.epochsOfRuns.all(JSON.stringify(runIds)) as Row[]) out.get(r.run_id)?.push(epochFromRow(r));
    return out;
  }

  batches(runId: number): BatchMetricsRow[] {
    return (this.s.batches.all(runId) as Row[]).map((r) => ({
      epoch: r.epoch, batch: r.batch, step: r.step, loss: r.loss, accuracy: r.accuracy, learningRate: r.learning_rate, wallTime: r.wall_time,
    }));
  }

  /** Forgets what a crashed attempt wrote after the snapshot a resume starts from. */
  rewindTo(runId: number, snapshot: { id: number; epoch: number; step: number } | null): void {
    this.db.transaction(() => {
      this.s.deleteEpochsAfter.run(runId, snapshot?.epoch ?? 0);
      this.s.deleteBatchesAfter.run(runId, snapshot?.step ?? 0);
      this.s.deleteHealthAfter.run(runId, snapshot?.step ?? 0);
      this.s.deleteSnapshotsAfter.run(runId, snapshot?.id ?? 0);
      const epochs = this.epochs(runId);
      const last = epochs[epochs.length - 1];
      this.db.prepare(`UPDATE runs SET epochs_done = COALESCE(?, epoch_offset), last_val_accuracy = ?, last_train_loss = ?,
        best_epoch = (SELECT epoch FROM snapshots WHERE run_id = ? AND is_best = 1 ORDER BY id DESC LIMIT 1),
        best_val_accuracy = (SELECT MAX(val_accuracy) FROM epoch_metrics WHERE run_id = ?) WHERE id = ?`)
        .run(last?.epoch ?? null, last?.valAccuracy ?? null, last?.trainLoss ?? null, runId, runId, runId);
    })();
  }

  // --- training health

  /** The run's health measurements, oldest first. */
  health(runId: number): HealthRecord[] {
    return (this.s.health.all(runId) as Row[]).map((r) => ({ step: r.step, epoch: r.epoch, batch: r.batch, layers: JSON.parse(r.data) as LayerHealth[] }));
  }

  /** The step whose loss went non-finite (numbered as the run counts), with the first layer that did. */
  insertHealthFailure(runId: number, f: NonFiniteStep): void {
    this.s.insertHealth.run(runId, f.step, f.epoch, f.batch, 'nonfinite', JSON.stringify({ loss: f.loss, layer: f.layer }));
  }

  healthFailure(runId: number): NonFiniteStep | null {
    const r = this.s.healthFailure.get(runId) as Row | undefined;
    if (!r) return null;
    const d = JSON.parse(r.data) as { loss: number | null; layer: NonFiniteStep['layer'] };
    // JSON has no NaN or ∞: a loss that was one is stored as null
    return { step: r.step, epoch: r.epoch, batch: r.batch, loss: d.loss ?? NaN, layer: d.layer };
  }

  snapshots(runId: number): SnapshotInfo[] {
    return (this.s.snapshots.all(runId) as Row[]).map(snapshotFromRow);
  }

  snapshot(id: number): (SnapshotInfo & { state: Uint8Array }) | undefined {
    const r = this.s.snapshot.get(id) as Row | undefined;
    if (!r) return undefined;
    const buf = r.state as Buffer;
    return { ...snapshotFromRow(r), state: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  }

  latestSnapshot(runId: number): (SnapshotInfo & { state: Uint8Array }) | undefined {
    const id = this.s.latestSnapshotId.get(runId) as number | undefined;
    return id === undefined ? undefined : this.snapshot(id);
  }

  // --- evaluations

  /** `predictions`: the predicted class of every evaluated image, in the evaluated set's order. */
  /** `top`: every image's likeliest classes (db/top-predictions.ts). The run's test accuracy is its
   *  latest snapshot's: evaluating an older one (time travel) leaves it alone. */
  insertEvaluation(e: NewEvaluation, predictions: Uint8Array | null = null, top: Uint8Array | null = null): EvaluationInfo {
    return this.db.transaction(() => {
      const info = this.s.insertEvaluation.run({
        run_id: e.runId, dataset_id: e.datasetId, snapshot_id: e.snapshotId, split: e.split, accuracy: e.accuracy, loss: e.loss,
        count: e.count, per_class: JSON.stringify(e.perClass), confusion: JSON.stringify(e.confusion),
        misclassified: JSON.stringify(e.misclassified), predictions: predictions && Buffer.from(predictions.buffer, predictions.byteOffset, predictions.byteLength),
        top_predictions: top && Buffer.from(top.buffer, top.byteOffset, top.byteLength), created_at: now(),
      });
      // the runs table's "test accuracy" is that: an evaluation on the training images is not one
      if (e.split === 'test' && e.snapshotId === this.s.latestSnapshotId.get(e.runId)) this.s.setTestAccuracy.run(e.accuracy, e.runId);
      return evaluationFromRow(this.s.evaluation.get(Number(info.lastInsertRowid)) as Row);
    })();
  }

  evaluations(runId: number): EvaluationInfo[] {
    return (this.s.evaluations.all(runId) as Row[]).map(evaluationFromRow);
  }

  predictions(evaluationId: number): Uint8Array | null {
    const b = this.s.predictions.get(evaluationId) as Buffer | null | undefined;
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }

  getEvaluation(id: number): EvaluationInfo | undefined {
    const r = this.s.evaluation.get(id) as Row | undefined;
    return r && evaluationFromRow(r);
  }

  /** The evaluation's top-k bytes (db/top-predictions.ts); null for one stored before they were kept. */
  topPredictions(evaluationId: number): Uint8Array | null {
    const b = this.s.topPredictions.get(evaluationId) as Buffer | null | undefined;
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }

  /** The newest stored evaluation of a snapshot on these images, with its per-image predictions (the time-travel cache). */
  evaluationOfSnapshot(snapshotId: number, datasetId: number, split: EvaluationInfo['split']): EvaluationInfo | undefined {
    const r = this.s.evaluationOfSnapshot.get(snapshotId, datasetId, split) as Row | undefined;
    return r && evaluationFromRow(r);
  }

  // --- sweeps

  insertSweep(s: NewSweep): number {
    return Number(this.s.insertSweep.run({
      name: s.name, dataset_id: s.datasetId, base_run_id: s.baseRunId, kind: s.kind, space: JSON.stringify(s.space), max_runs: s.maxRuns,
      seed: s.seed, parallel: s.parallel, created_at: now(),
    }).lastInsertRowid);
  }

  getSweep(id: number): SweepInfo | undefined {
    const r = this.s.sweep.get(id) as Row | undefined;
    return r && sweepFromRow(r);
  }

  listSweeps(): SweepInfo[] {
    return (this.s.sweeps.all() as Row[]).map(sweepFromRow);
  }

  latestEvaluations(runIds: number[]): Map<number, EvaluationInfo> {
    const out = new Map<number, EvaluationInfo>();
    for (const r of this.s.latestEvaluations.all(JSON.stringify(runIds)) as Row[]) out.set(r.run_id, evaluationFromRow(r));
    return out;
  }
}
