/**
 * Runs: the queue (a pool of training workers), each run's lifecycle (queued → running → paused /
 * stopped / completed / failed; interrupted when its process died) and the bookkeeping of what its
 * worker reports — batch rows through the metric buffer, an epoch's metrics and snapshot in one
 * transaction, status events to every subscriber.
 */
import { describeSpec, ENGINE_VERSION, isFinished, readTrainerState, specHash } from '../../src-engine/index.js';
import {
  DEFAULT_HYPERPARAMETERS, finalEpoch, mergeHyperparameters, queryRuns, type ForkRunRequest, type ListRunsRequest, type RunDetail, type RunStatus, type RunSummary,
  type StartRunRequest,
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
  /** The epoch the run ends at, in its numbering. */
  epochs: number;
  /** A fork's numbering continues its parent's: the trainer counts from 0, the rows from these. */
  epochOffset: number;
  stepOffset: number;
  /** Resolved when the worker's final message (or crash) has been handled. */
  finished: Promise<void>;
  resolveFinished: () => void;
}

const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted', 'stopped']);

export class RunManager {
  private readonly pool: WorkerPool;
  private readonly active = new Map<number, ActiveRun>();
  private readonly metrics: MetricBuffer;

  constructor(private readonly ctx: ServiceContext, private readonly datasets: DatasetLibrary, options: { poolSize: number; threadBudget: number; flushIntervalMs: number }) {
    this.pool = new WorkerPool(options.poolSize, ctx.workers.training, options.threadBudget);
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

  /** The runs that match, sorted (contract/run-query.ts: the renderer's table sorts the same way). */
  list(q: ListRunsRequest = {}): RunSummary[] {
    const { limit, ...rest } = q;
    const rows = this.ctx.store.listRuns({ datasetId: q.datasetId, status: q.status });
    return queryRuns(rows, limit === undefined ? rest : { ...rest, limit });
  }

  /** Queued or running: its worker may touch its rows. */
  isActive(id: number): boolean {
    return this.active.has(id) || this.pool.isRunning(id) || this.pool.isQueued(id);
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
    const tags = req.tags && [...new Set(req.tags.map((t) => t.trim()).filter(Boolean))];
    this.ctx.store.updateRunInfo(run.id, { name: req.name?.trim(), notes: req.notes, tags });
    return this.announce(run.id);
  }

  /** Tells every subscriber the run's summary changed (renamed, tagged, evaluated): lists patch it in place. */
  announce(id: number): RunSummary {
    const summary = this.summary(id);
    this.ctx.events.emit('libraryChanged', { kind: 'run', id, change: 'updated', run: summary });
    return summary;
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Checks everything (spec, hyperparameters, that the dataset's images are there), then writes the run row and queues it. */
  start(req: StartRunRequest, options: { sweepId?: number } = {}): RunSummary {
    const d = this.datasets.row(req.datasetId);
    const report = checkSpec(req.spec, d);
    const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    this.datasets.usable(d.id);
    const id = this.ctx.store.insertRun({
      name: req.name ?? `${d.name} · ${describeSpec(req.spec)}`,
      datasetId: d.id, spec: req.spec, specHash: specHash(req.spec), totalParams: report.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: null, parentSnapshotId: null,
      notes: req.notes ?? '', tags: req.tags ?? [], sweepId: options.sweepId ?? null,
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
    // The fork's `epochs` are extra epochs after the snapshot's: its numbering and steps continue the parent's.
    const hyper = mergeHyperparameters(parent.hyperparameters, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    this.datasets.usable(d.id);
    const at = snapshot.batch > 0 ? `epoch ${snapshot.epoch + 1}, batch ${snapshot.batch}` : `epoch ${snapshot.epoch}`;
    const id = this.ctx.store.insertRun({
      name: req.name ?? `${parent.name} (fork of #${parent.id} at ${at})`,
      datasetId: d.id, spec: parent.spec, specHash: parent.specHash, totalParams: parent.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: parent.id, parentSnapshotId: snapshot.id,
      notes: '', tags: parent.tags, epochOffset: snapshot.epoch, stepOffset: snapshot.step,
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
    this.datasets.usable(run.datasetId);
    // A crashed attempt may have written metrics after its last snapshot; the resume rewrites them.
    this.ctx.store.rewindTo(run.id, snapshot ?? null);
    this.setStatus(run.id, 'queued');
    this.schedule(run.id);
    return this.summary(run.id);
  }

  /**
   * Deletes a run with its metrics, snapshots and evaluations. Its forks keep their own snapshots and
   * lose the link: named in the refusal (in_use, detail.usedBy) unless `confirmed`. A fork that has
   * not trained yet would lose the weights it starts from, so that is refused outright.
   */
  delete(id: number, confirmed = false): { deleted: true } {
    const run = this.row(id);
    if (this.pool.isRunning(run.id)) throw new ServiceError('conflict', `run ${run.id} is running; pause or stop it first`);
    const forks = this.ctx.store.childRuns(run.id).map((f) => this.row(f));
    const waiting = forks.filter((f) => this.ctx.store.latestSnapshot(f.id) === undefined);
    if (waiting.length > 0) {
      throw new ServiceError('conflict', `run ${run.id}'s fork${waiting.length === 1 ? '' : 's'} ${waiting.map((f) => `#${f.id}`).join(', ')} ${waiting.length === 1 ? 'has' : 'have'} not trained yet and start${waiting.length === 1 ? 's' : ''} from its snapshot; delete ${waiting.length === 1 ? 'it' : 'them'} or let ${waiting.length === 1 ? 'it' : 'them'} train first`,
        { usedBy: waiting.map((f) => ({ id: f.id, name: f.name })) });
    }
    if (forks.length > 0 && !confirmed) {
      throw new ServiceError('in_use', `run ${run.id} has ${forks.length} fork${forks.length === 1 ? '' : 's'} (${forks.map((f) => `#${f.id} ${JSON.stringify(f.name)}`).join(', ')}); ${forks.length === 1 ? 'it keeps its' : 'they keep their'} own snapshots but will no longer show where ${forks.length === 1 ? 'it' : 'they'} came from`,
        { usedBy: forks.map((f) => ({ id: f.id, name: f.name })) });
    }
    this.pool.dequeue(run.id);
    this.finishActive(run.id);
    this.ctx.store.deleteRun(run.id);
    this.ctx.events.emit('libraryChanged', { kind: 'run', id: run.id, change: 'deleted' });
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
    const active: ActiveRun = { runId, lastWallTime: 0, epochs: 0, epochOffset: 0, stepOffset: 0, finished, resolveFinished };
    this.active.set(runId, active);
    this.pool.enqueue(runId, (control) => {
      const run = this.row(runId);
      const store = this.ctx.store;
      const snapshot = store.latestSnapshot(runId);
      active.lastWallTime = run.trainSeconds;
      active.epochs = finalEpoch(run);
      active.epochOffset = run.epochOffset;
      active.stepOffset = run.stepOffset;
      const d = this.datasets.row(run.datasetId);
      const h = run.hyperparameters;
      const job: TrainJob = {
        type: 'train', runId,
        data: { cacheFile: d.cacheFile, validationSplit: h.validationSplit, splitSeed: h.seed, trainLimit: h.trainLimit },
        spec: run.spec, config: toTrainConfig(h), seed: h.seed, kernels: h.kernels, threads: h.threads, progressEvery: h.progressEvery,
        snapshotMinutes: h.snapshotMinutes, wallTimeOffset: run.trainSeconds, control,
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
    }, this.row(runId).hyperparameters.threads);
  }

  private onWorkerMessage(a: ActiveRun, m: WorkerMessage): void {
    const runId = a.runId;
    const store = this.ctx.store;
    // The trainer counts epochs from 0 and steps from its own start; the rows count as the run does.
    const epochOf = (trainerEpoch: number) => a.epochOffset + trainerEpoch;
    const stepOf = (trainerStep: number) => a.stepOffset + trainerStep;
    switch (m.type) {
      case 'started':
        store.setKernelsUsed(runId, m.kernels);
        store.setBestMonitor(runId, m.monitor);
        this.setStatus(runId, 'running');
        return;
      case 'batch': {
        const e = m.event;
        const row = { epoch: epochOf(e.epoch) + 1, batch: e.batch + 1, step: stepOf(e.step), loss: e.loss, accuracy: e.accuracy, learningRate: e.learningRate };
        this.metrics.push({ runId, ...row, wallTime: m.wallTime });
        this.ctx.events.emit('runProgress', { runId, kind: 'batch', ...row, batchesPerEpoch: e.batchesPerEpoch, wallTime: m.wallTime, imagesPerSecond: m.imagesPerSecond });
        return;
      }
      case 'epoch': {
        const x = m.metrics;
        const metrics = {
          epoch: epochOf(x.epoch) + 1, step: stepOf(m.step), trainLoss: x.trainLoss, trainAccuracy: x.trainAccuracy, valLoss: x.valLoss, valAccuracy: x.valAccuracy,
          learningRate: x.learningRate, imagesPerSecond: x.imagesPerSecond, seconds: x.seconds, wallTime: m.wallTime,
        };
        const snapshotId = store.commitEpoch({
          runId, metrics, improved: x.improved, bestEpoch: m.bestEpoch >= 0 ? epochOf(m.bestEpoch) + 1 : null, state: m.state, kind: 'epoch',
          trainSeconds: m.wallTime - a.lastWallTime, pendingBatches: this.metrics.take(runId),
        });
        a.lastWallTime = m.wallTime;
        this.ctx.events.emit('runProgress', { runId, kind: 'epoch', ...metrics, epochs: a.epochs, improved: x.improved, snapshotId });
        return;
      }
      case 'snapshot': {
        // Within an epoch: the rows reported so far go with it, so a resume from here rewinds nothing it reported.
        store.insertSnapshot(runId, { epoch: epochOf(m.epoch), batch: m.batch, step: stepOf(m.step) }, 'interval', m.state, this.metrics.take(runId), m.wallTime - a.lastWallTime);
        a.lastWallTime = m.wallTime;
        return;
      }
      case 'ended': {
        const pending = this.metrics.take(runId);
        if (m.state) {
          store.insertSnapshot(runId, { epoch: epochOf(m.epoch), batch: m.batch, step: stepOf(m.step) }, m.reason === 'paused' ? 'pause' : 'stop', m.state, pending, m.wallTime - a.lastWallTime);
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
