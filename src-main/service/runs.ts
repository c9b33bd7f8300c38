/**
 * Runs: the queue (a pool of training workers), each run's lifecycle (queued → running → paused /
 * stopped / completed / failed; interrupted when its process died) and the bookkeeping of what its
 * worker reports — batch rows through the metric buffer, an epoch's metrics and snapshot in one
 * transaction, status events to every subscriber.
 */
import { describeSpec, ENGINE_VERSION, isFinished, readTrainerState, specHash } from '../../src-engine/index.js';
import {
  DEFAULT_HYPERPARAMETERS, mergeHyperparameters, type ForkRunRequest, type RunDetail, type RunStatus, type RunSummary, type StartRunRequest,
} from '../contract/index.js';
import type { RunRow } from '../db/store.js';
import { CONTROL_PAUSE, CONTROL_STOP, type TrainJob, type WorkerMessage } from '../training/protocol.js';
import { WorkerPool } from '../training/pool.js';
import type { ServiceContext } from './context.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import { checkHyperparameters, toTrainConfig } from './hyperparameters.js';
import { MetricBuffer } from './metric-buffer.js';
import { checkSpec } from './specs.js';

/** A run whose worker is alive or queued. */
interface ActiveRun {
  runId: number;
  /** Training seconds already stored for the run; the next commit adds what is beyond it. */
  lastWallTime: number;
  epochs: number;
  /** Resolved when the worker's final message (or crash) has been handled. */
  finished: Promise<void>;
  resolveFinished: () => void;
}

const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted', 'stopped']);

export class RunManager {
  private readonly pool: WorkerPool;
  private readonly active = new Map<number, ActiveRun>();
  private readonly metrics: MetricBuffer;

  constructor(private readonly ctx: ServiceContext, private readonly datasets: DatasetLibrary, options: { poolSize: number; flushIntervalMs: number }) {
    this.pool = new WorkerPool(options.poolSize, ctx.workers.training);
    this.metrics = new MetricBuffer(ctx.store, options.flushIntervalMs);
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  row(id: number): RunRow {
    const r = this.ctx.store.getRun(id);
    if (!r) throw new ServiceError('not_found', `no run with id ${id}`);
    return r;
  }

  summary(id: number): RunSummary {
    const { spec: _spec, ...summary } = this.row(id);
    return summary;
  }

  list(filter: { datasetId?: number; status?: RunStatus; limit?: number }): RunSummary[] {
    return this.ctx.store.listRuns(filter);
  }

  detail(id: number, batches: boolean): RunDetail {
    const store = this.ctx.store;
    const run = this.row(id);
    const lineage: RunDetail['lineage'] = [];
    const seen = new Set<number>([run.id]);
    let cursor: RunRow | undefined = run;
    while (cursor && cursor.parentRunId !== null && !seen.has(cursor.parentRunId)) {
      seen.add(cursor.parentRunId);
      const snap: number | null = cursor.parentSnapshotId;
      const epoch = snap !== null ? store.snapshots(cursor.parentRunId).find((s) => s.id === snap)?.epoch ?? null : null;
      lineage.push({ runId: cursor.parentRunId, snapshotId: snap, epoch });
      cursor = store.getRun(cursor.parentRunId);
    }
    return {
      ...run,
      epochs: store.epochs(run.id),
      batches: batches ? store.batches(run.id) : [],
      snapshots: store.snapshots(run.id),
      evaluations: store.evaluations(run.id),
      lineage,
      children: store.childRuns(run.id),
    };
  }

  /** Finds a run by id or unique name. */
  find(idOrName: string | number): RunSummary {
    const asNumber = Number(idOrName);
    if (Number.isInteger(asNumber)) {
      const r = this.ctx.store.getRun(asNumber);
      if (r) return this.summary(r.id);
    }
    const matches = this.ctx.store.listRuns().filter((r) => r.name === String(idOrName));
    if (matches.length === 1) return matches[0]!;
    throw new ServiceError('not_found', matches.length > 1 ? `${matches.length} runs are named ${JSON.stringify(idOrName)}; use the id` : `no run with id or name ${JSON.stringify(idOrName)}`);
  }

  update(req: { id: number; name?: string; notes?: string; tags?: string[] }): RunSummary {
    const run = this.row(req.id);
    if (req.name !== undefined && req.name.trim() === '') throw new ServiceError('bad_request', 'a run name cannot be empty', { field: 'name' });
    this.ctx.store.updateRunInfo(run.id, { name: req.name, notes: req.notes, tags: req.tags });
    return this.summary(run.id);
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  start(req: StartRunRequest): RunSummary {
    const d = this.datasets.row(req.datasetId);
    const report = checkSpec(req.spec, d);
    const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    const id = this.ctx.store.insertRun({
      name: req.name ?? `${d.name} · ${describeSpec(req.spec)}`,
      datasetId: d.id, spec: req.spec, specHash: specHash(req.spec), totalParams: report.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: null, parentSnapshotId: null,
      notes: req.notes ?? '', tags: req.tags ?? [],
    });
    this.ctx.events.emit('runStatus', { runId: id, status: 'queued', previous: null, error: null, stopReason: null, kernelsUsed: null });
    this.schedule(id);
    return this.summary(id);
  }

  fork(req: ForkRunRequest): RunSummary {
    const parent = this.row(req.runId);
    const snapshots = this.ctx.store.snapshots(parent.id);
    const snapshot = req.snapshotId !== undefined ? snapshots.find((s) => s.id === req.snapshotId) : snapshots[snapshots.length - 1];
    if (!snapshot) {
      throw new ServiceError('not_found', req.snapshotId !== undefined ? `run ${parent.id} has no snapshot ${req.snapshotId}` : `run ${parent.id} has no snapshot to fork from yet`);
    }
    const d = this.datasets.row(parent.datasetId);
    const hyper = mergeHyperparameters(parent.hyperparameters, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    const id = this.ctx.store.insertRun({
      name: req.name ?? `${parent.name} (fork of #${parent.id} at epoch ${snapshot.epoch})`,
      datasetId: d.id, spec: parent.spec, specHash: parent.specHash, totalParams: parent.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: parent.id, parentSnapshotId: snapshot.id,
      notes: '', tags: parent.tags,
    });
    this.ctx.events.emit('runStatus', { runId: id, status: 'queued', previous: null, error: null, stopReason: null, kernelsUsed: null });
    this.schedule(id);
    return this.summary(id);
  }

  pause(id: number): Promise<RunSummary> {
    return this.halt(id, 'paused');
  }

  stop(id: number): Promise<RunSummary> {
    return this.halt(id, 'stopped');
  }

  private async halt(id: number, target: 'paused' | 'stopped'): Promise<RunSummary> {
    const run = this.row(id);
    if (this.pool.isQueued(run.id)) {
      this.pool.dequeue(run.id);
      this.setStatus(run.id, target, null, target === 'stopped' ? 'stopped' : null);
      this.finishActive(run.id);
      return this.summary(run.id);
    }
    const active = this.active.get(run.id);
    if (active && this.pool.signal(run.id, target === 'paused' ? CONTROL_PAUSE : CONTROL_STOP)) {
      await active.finished;
      return this.summary(run.id);
    }
    if (target === 'stopped' && (run.status === 'paused' || run.status === 'interrupted')) {
      this.setStatus(run.id, 'stopped', null, 'stopped');
      return this.summary(run.id);
    }
    if (run.status === target) return this.summary(run.id);
    throw new ServiceError('conflict', `run ${run.id} is ${run.status}; only a queued or running run can be ${target}`);
  }

  resume(id: number): RunSummary {
    const run = this.row(id);
    if (!RESUMABLE.has(run.status)) {
      const hint = run.status === 'completed' ? '; fork it to train further' : run.status === 'failed' ? '; fork it from a snapshot with other hyperparameters' : '';
      throw new ServiceError('conflict', `run ${run.id} is ${run.status}; only a paused, stopped or interrupted run can be resumed${hint}`);
    }
    const snapshot = this.ctx.store.latestSnapshot(run.id);
    let finished = false;
    try {
      finished = snapshot !== undefined && isFinished(snapshot.state);
    } catch (e) {
      throw new ServiceError('conflict', `run ${run.id} cannot resume: its last snapshot (${snapshot!.id}) is damaged (${(e as Error).message}); fork it from an earlier snapshot`);
    }
    if (finished) throw new ServiceError('conflict', `run ${run.id} already finished its training (its last snapshot is final)`);
    // A crashed attempt may have written metrics after its last snapshot; the resume rewrites them.
    this.ctx.store.rewindTo(run.id, snapshot ?? null);
    this.setStatus(run.id, 'queued');
    this.schedule(run.id);
    return this.summary(run.id);
  }

  delete(id: number): { deleted: true } {
    const run = this.row(id);
    if (this.pool.isRunning(run.id)) throw new ServiceError('conflict', `run ${run.id} is running; pause or stop it first`);
    this.pool.dequeue(run.id);
    this.finishActive(run.id);
    this.ctx.store.deleteRun(run.id);
    return { deleted: true };
  }

  /** Resolves when the run reaches a status that is not queued or running. */
  async waitFor(id: number): Promise<RunSummary> {
    const a = this.active.get(id);
    if (a) await a.finished;
    return this.summary(id);
  }

  /** Queued runs become paused; running ones pause at the end of their batch and snapshot; then the pool stops. */
  async close(graceMs: number): Promise<void> {
    for (const id of this.pool.queuedKeys) {
      this.pool.dequeue(id);
      this.setStatus(id, 'paused');
      this.finishActive(id);
    }
    const waits = [...this.active.values()].map((a) => {
      this.pool.signal(a.runId, CONTROL_PAUSE);
      return a.finished;
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.pool.close();
    this.metrics.close();
  }

  // ------------------------------------------------------------------------------------------
  // Bookkeeping

  private setStatus(id: number, status: RunStatus, error: string | null = null, stopReason: string | null = null): void {
    const before = this.ctx.store.getRun(id);
    if (!before) return;
    this.ctx.store.setStatus(id, status, error, stopReason);
    const after = this.ctx.store.getRun(id)!;
    this.ctx.events.emit('runStatus', { runId: id, status, previous: before.status, error, stopReason: after.stopReason, kernelsUsed: after.kernelsUsed });
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
    const active: ActiveRun = { runId, lastWallTime: 0, epochs: 0, finished, resolveFinished };
    this.active.set(runId, active);
    this.pool.enqueue(runId, (control) => {
      const run = this.row(runId);
      const store = this.ctx.store;
      const snapshot = store.latestSnapshot(runId);
      active.lastWallTime = run.trainSeconds;
      active.epochs = run.hyperparameters.epochs;
      const d = this.datasets.row(run.datasetId);
      const h = run.hyperparameters;
      const job: TrainJob = {
        type: 'train', runId,
        data: { cacheFile: d.cacheFile, validationSplit: h.validationSplit, splitSeed: h.seed, trainLimit: h.trainLimit },
        spec: run.spec, config: toTrainConfig(h), seed: h.seed, kernels: h.kernels, threads: h.threads, progressEvery: h.progressEvery,
        wallTimeOffset: run.trainSeconds, control,
      };
      if (snapshot) job.state = snapshot.state;
      else if (run.parentSnapshotId !== null) {
        const parent = store.snapshot(run.parentSnapshotId);
        if (!parent) throw new Error(`the snapshot run ${runId} was forked from no longer exists`);
        job.initialWeights = readTrainerState(parent.state).weights;
      } else if (run.parentRunId !== null) throw new Error(`the snapshot run ${runId} was forked from no longer exists`);
      return job;
    }, {
      onMessage: (m) => this.onWorkerMessage(active, m),
      onCrash: (message) => {
        this.metrics.flush();
        this.setStatus(runId, 'failed', message);
        this.finishActive(runId);
      },
    });
  }

  private onWorkerMessage(a: ActiveRun, m: WorkerMessage): void {
    const runId = a.runId;
    const store = this.ctx.store;
    switch (m.type) {
      case 'started':
        store.setKernelsUsed(runId, m.kernels);
        this.setStatus(runId, 'running');
        return;
      case 'batch': {
        const e = m.event;
        this.metrics.push({ runId, epoch: e.epoch + 1, batch: e.batch + 1, step: e.step, loss: e.loss, accuracy: e.accuracy, learningRate: e.learningRate, wallTime: m.wallTime });
        this.ctx.events.emit('runProgress', { runId, kind: 'batch', epoch: e.epoch + 1, batch: e.batch + 1, batchesPerEpoch: e.batchesPerEpoch, step: e.step, loss: e.loss, accuracy: e.accuracy, learningRate: e.learningRate });
        return;
      }
      case 'epoch': {
        const x = m.metrics;
        const metrics = {
          epoch: x.epoch + 1, step: m.step, trainLoss: x.trainLoss, trainAccuracy: x.trainAccuracy, valLoss: x.valLoss, valAccuracy: x.valAccuracy,
          learningRate: x.learningRate, imagesPerSecond: x.imagesPerSecond, seconds: x.seconds, wallTime: m.wallTime,
        };
        const snapshotId = store.commitEpoch({
          runId, metrics, improved: x.improved, bestEpoch: m.bestEpoch >= 0 ? m.bestEpoch + 1 : null, state: m.state, kind: 'epoch',
          trainSeconds: m.wallTime - a.lastWallTime, pendingBatches: this.metrics.take(runId),
        });
        a.lastWallTime = m.wallTime;
        this.ctx.events.emit('runProgress', { runId, kind: 'epoch', ...metrics, epochs: a.epochs, improved: x.improved, snapshotId });
        return;
      }
      case 'ended': {
        const pending = this.metrics.take(runId);
        if (m.state) {
          store.insertSnapshot(runId, m.epoch, m.step, m.reason === 'paused' ? 'pause' : 'stop', m.state, pending, m.wallTime - a.lastWallTime);
        } else {
          store.insertBatches(pending);
          store.addTrainSeconds(runId, m.wallTime - a.lastWallTime);
        }
        a.lastWallTime = m.wallTime;
        if (m.reason === 'paused') this.setStatus(runId, 'paused');
        else if (m.reason === 'stopped') this.setStatus(runId, 'stopped', null, 'stopped');
        else this.setStatus(runId, 'completed', null, m.reason);
        this.finishActive(runId);
        return;
      }
      case 'failed':
        store.insertBatches(this.metrics.take(runId));
        this.setStatus(runId, 'failed', m.message, m.code);
        this.finishActive(runId);
        return;
      case 'evaluated':
        return;
    }
  }
}
