/**
 * Runs: the queue (a pool of training workers) and each run's lifecycle (queued → running → paused
 * / stopped / completed / failed; interrupted when its owner died). Writing down what a run's worker
 * reports is run-recorder.ts's.
 *
 * A run has one owner (service/ownership.ts): this process marks the runs it queues, and refuses
 * to resume, pause, stop or delete a run another live process trains. Everything that could make
 * a run fail at once (its size, its dataset's cache file, room in the queue) is checked before a
 * row is written or changed.
 */
import { describeSpec, ENGINE_VERSION, inferShapes, isFinished, readTrainerState, specHash } from '../../src-engine/index.js';
import {
  DEFAULT_HYPERPARAMETERS, finalEpoch, mergeHyperparameters, queryRuns, type ForkRunRequest, type Hyperparameters, type ListRunsRequest, type ModelSpec,
  type RunDetail, type RunStatus, type RunSummary, type StartRunRequest,
} from '../contract/index.js';
import type { DatasetRow, RunRow } from '../db/store.js';
import { CONTROL_PAUSE, CONTROL_STOP, type TrainJob } from '../training/protocol.js';
import { WorkerPool } from '../training/pool.js';
import type { ServiceContext } from './context.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError, storageWrite } from './errors.js';
import { checkHyperparameters, toTrainConfig } from './hyperparameters.js';
import { modelLimits, modelSizeProblem } from './model-size.js';
import type { Ownership } from './ownership.js';
import { RunRecorder, type ActiveRun } from './run-recorder.js';
import { checkSpec } from './specs.js';

export interface RunManagerOptions {
  poolSize: number;
  /** Gradient threads the running runs may use between them (training/pool.ts). */
  threadBudget: number;
  flushIntervalMs: number;
  /** Runs that may wait for a training slot in this process; one more is refused. */
  maxQueuedRuns: number;
}

const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted', 'stopped']);
const ACTIVE: ReadonlySet<RunStatus> = new Set(['queued', 'running']);

export class RunManager {
  private readonly pool: WorkerPool;
  private readonly active = new Map<number, ActiveRun>();
  private readonly recorder: RunRecorder;

  constructor(private readonly ctx: ServiceContext, private readonly datasets: DatasetLibrary, private readonly ownership: Ownership,
    private readonly options: RunManagerOptions) {
    this.pool = new WorkerPool(options.poolSize, ctx.workers.training, options.threadBudget);
    this.recorder = new RunRecorder(ctx, options.flushIntervalMs, {
      active: (id) => this.active.get(id),
      pause: (id) => void this.pool.signal(id, CONTROL_PAUSE),
      ended: (id) => this.finishActive(id),
    });
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  row(id: number): RunRow {
    const r = this.ctx.store.getRun(id);
    if (!r) throw new ServiceError('not_found', `no run with id ${id}`);
    return this.recorder.withUnrecorded(r);
  }

  summary(id: number): RunSummary {
    const { spec: _spec, ...summary } = this.row(id);
    return summary;
  }

  /** The runs that match, sorted (contract/run-query.ts: the renderer's table sorts the same way). */
  list(q: ListRunsRequest = {}): RunSummary[] {
    this.reconcile();
    const { limit, ...rest } = q;
    const rows = this.ctx.store.listRuns({ datasetId: q.datasetId, status: q.status }).map((r) => this.recorder.withUnrecorded(r));
    return queryRuns(rows, limit === undefined ? rest : { ...rest, limit });
  }

  /** Queued or running in this process: its worker may touch its rows. */
  isActive(id: number): boolean {
    return this.active.has(id) || this.pool.isRunning(id) || this.pool.isQueued(id);
  }

  detail(id: number, batches: boolean): RunDetail {
    this.reconcile(id);
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
    if (matches.length === 1) return this.recorder.withUnrecorded(matches[0]!);
    throw new ServiceError('not_found', matches.length > 1 ? `${matches.length} runs are named ${JSON.stringify(idOrName)}; use the id` : `no run with id or name ${JSON.stringify(idOrName)}`);
  }

  update(req: { id: number; name?: string; notes?: string; tags?: string[] }): RunSummary {
    const run = this.row(req.id);
    if (req.name !== undefined && req.name.trim() === '') throw new ServiceError('bad_request', 'a run name cannot be empty', { field: 'name' });
    const tags = req.tags && [...new Set(req.tags.map((t) => t.trim()).filter(Boolean))];
    storageWrite(() => this.ctx.store.updateRunInfo(run.id, { name: req.name?.trim(), notes: req.notes, tags }), 'save the change again');
    return this.announce(run.id);
  }

  /** Tells every subscriber the run's summary changed (renamed, tagged, evaluated): lists patch it in place. */
  announce(id: number): RunSummary {
    const summary = this.summary(id);
    this.ctx.events.emit('libraryChanged', { kind: 'run', id, change: 'updated', run: summary });
    return summary;
  }

  // ------------------------------------------------------------------------------------------
  // Ownership

  /**
   * Runs marked queued/running whose owner is gone — another process that died, or this one when it
   * no longer trains them — become interrupted (or the status this process could not write before).
   * Returns the ids changed. Two processes looking at once change each run once.
   */
  reconcile(only?: number): number[] {
    const changed: number[] = [];
    for (const r of this.ownership.orphans((id) => this.active.has(id), only)) {
      const u = this.recorder.unrecordedStatus(r.id);
      const status = u?.status ?? 'interrupted';
      try {
        if (!this.ctx.store.releaseRun(r.id, r.owner, status, u?.error ?? null, u?.stopReason ?? null)) continue;
      } catch {
        continue; // the disk is still full or read-only: the next look tries again
      }
      this.recorder.forget(r.id);
      changed.push(r.id);
      // subscribers were told an unrecorded status when it happened; an interruption is news
      if (!u) this.ctx.events.emit('runStatus', { runId: r.id, status, previous: r.status, error: null, stopReason: null, kernelsUsed: null });
    }
    if (changed.length > 0) {
      try {
        this.ownership.forgetDeadOwners();
      } catch {
        // forgotten at a later look
      }
    }
    return changed;
  }

  /** Refuses to act on a run that another live process has queued or trains, saying which. */
  private refuseIfOwnedElsewhere(run: RunRow, doing: string): void {
    if (!ACTIVE.has(run.status) || this.active.has(run.id)) return;
    const owner = this.ctx.store.runOwner(run.id);
    if (this.ownership.isMine(owner)) return;
    throw new ServiceError('conflict', `run ${run.id} is ${run.status} in another process, ${this.ownership.describe(owner)}: ` +
      `${doing} it there, or wait until it has finished`);
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Checks everything (spec, hyperparameters, that the dataset's images are there), then writes the run row and queues it. */
  start(req: StartRunRequest, options: { sweepId?: number } = {}): RunSummary {
    const d = this.datasets.row(req.datasetId);
    const report = checkSpec(req.spec, d);
    const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, req.hyperparameters ?? {});
    checkHyperparameters(hyper, d);
    this.checkModelSize(req.spec, hyper, d);
    this.datasets.checkCache(d, 'start the run');
    this.checkQueueRoom();
    const id = storageWrite(() => this.ctx.store.insertRun({
      name: req.name ?? `${d.name} · ${describeSpec(req.spec)}`,
      datasetId: d.id, spec: req.spec, specHash: specHash(req.spec), totalParams: report.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: null, parentSnapshotId: null,
      notes: req.notes ?? '', tags: req.tags ?? [], owner: this.ownership.me.token, sweepId: options.sweepId ?? null,
    }), 'start the run again');
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
    this.checkModelSize(parent.spec, hyper, d);
    this.datasets.checkCache(d, 'fork the run');
    this.checkQueueRoom();
    const at = snapshot.batch > 0 ? `epoch ${snapshot.epoch + 1}, batch ${snapshot.batch}` : `epoch ${snapshot.epoch}`;
    const id = storageWrite(() => this.ctx.store.insertRun({
      name: req.name ?? `${parent.name} (fork of #${parent.id} at ${at})`,
      datasetId: d.id, spec: parent.spec, specHash: parent.specHash, totalParams: parent.totalParams, hyperparameters: hyper,
      status: 'queued', engineVersion: ENGINE_VERSION, parentRunId: parent.id, parentSnapshotId: snapshot.id,
      notes: '', tags: parent.tags, owner: this.ownership.me.token, epochOffset: snapshot.epoch, stepOffset: snapshot.step,
    }), 'fork the run again');
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
    this.reconcile(id);
    const run = this.row(id);
    if (this.pool.isQueued(run.id)) {
      this.pool.dequeue(run.id);
      this.recorder.finish(run.id, target, null, target === 'stopped' ? 'stopped' : null);
      return this.summary(run.id);
    }
    const active = this.active.get(run.id);
    if (active && this.pool.signal(run.id, target === 'paused' ? CONTROL_PAUSE : CONTROL_STOP)) {
      await active.finished;
      return this.summary(run.id);
    }
    this.refuseIfOwnedElsewhere(run, target === 'paused' ? 'pause' : 'stop');
    if (target === 'stopped' && (run.status === 'paused' || run.status === 'interrupted')) {
      storageWrite(() => this.recorder.setStatus(run.id, 'stopped', null, 'stopped'), 'stop it again');
      return this.summary(run.id);
    }
    if (run.status === target) return this.summary(run.id);
    throw new ServiceError('conflict', `run ${run.id} is ${run.status}; only a queued or running run can be ${target}`);
  }

  /**
   * Everything that could make the resumed run fail at once is checked first (its snapshot, its
   * dataset's cache file, room in the queue); only then is the run claimed — atomically, so two
   * processes resuming the same run cannot both train it.
   */
  resume(id: number): RunSummary {
    this.reconcile(id);
    const run = this.row(id);
    if (ACTIVE.has(run.status)) {
      if (this.active.has(run.id)) throw new ServiceError('conflict', `run ${run.id} is ${run.status} already`);
      this.refuseIfOwnedElsewhere(run, 'pause');
    }
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
    if (!snapshot && run.parentSnapshotId !== null && !this.ctx.store.snapshot(run.parentSnapshotId)) {
      throw new ServiceError('conflict', `run ${run.id} cannot start: the snapshot it was forked from no longer exists; fork its parent again`);
    }
    this.datasets.checkCache(this.datasets.row(run.datasetId), `resume run ${run.id}`);
    this.checkQueueRoom();
    // A crashed attempt may have written metrics after its last snapshot; the claim rewinds them.
    const claimed = storageWrite(() => this.ctx.store.claimForResume(run.id, this.ownership.me.token, snapshot ?? null), 'resume');
    if (!claimed) {
      this.refuseIfOwnedElsewhere(this.row(run.id), 'pause');
      throw new ServiceError('conflict', `run ${run.id} changed while resuming it; look at it again`);
    }
    this.recorder.forget(run.id);
    this.ctx.events.emit('runStatus', { runId: run.id, status: 'queued', previous: run.status, error: null, stopReason: run.stopReason, kernelsUsed: run.kernelsUsed });
    this.schedule(run.id);
    return this.summary(run.id);
  }

  /**
   * Deletes a run with its metrics, snapshots and evaluations. Its forks keep their own snapshots and
   * lose the link: named in the refusal (in_use, detail.usedBy) unless `confirmed`. A fork that has
   * not trained yet would lose the weights it starts from, so that is refused outright.
   */
  delete(id: number, confirmed = false): { deleted: true } {
    this.reconcile(id);
    const run = this.row(id);
    if (this.pool.isRunning(run.id)) throw new ServiceError('conflict', `run ${run.id} is running; pause or stop it first`);
    this.refuseIfOwnedElsewhere(run, 'stop');
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
    storageWrite(() => this.ctx.store.deleteRun(run.id), 'delete it again');
    this.pool.dequeue(run.id);
    this.finishActive(run.id);
    this.recorder.forget(run.id);
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
      this.recorder.finish(id, 'paused', null, null);
    }
    const waits = [...this.active.values()].map((a) => {
      this.pool.signal(a.runId, CONTROL_PAUSE);
      return a.finished;
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.pool.close();
    this.recorder.close();
  }

  // ------------------------------------------------------------------------------------------
  // Checks before a run row is written or changed

  private checkModelSize(spec: ModelSpec, h: Hyperparameters, d: DatasetRow): void {
    const report = inferShapes(spec);
    const problem = report.ok ? modelSizeProblem(spec, report, h, d.trainCount, modelLimits(this.ctx.store)) : null;
    if (problem) throw new ServiceError('invalid_spec', problem.message, { layerIndex: problem.layerIndex });
  }

  private checkQueueRoom(): void {
    // a queued job waits only while no slot (or not enough gradient threads) is free for it
    const waiting = this.pool.queuedKeys.length;
    if (waiting >= this.options.maxQueuedRuns) {
      throw new ServiceError('busy', `${waiting} runs are waiting for a training slot already (at most ${this.options.maxQueuedRuns}); ` +
        'start this one when some have finished');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Bookkeeping

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
    const active: ActiveRun = { runId, lastWallTime: 0, epochs: 0, epochOffset: 0, stepOffset: 0, finished, resolveFinished, stalled: null };
    this.active.set(runId, active);
    this.pool.enqueue(runId, (control) => {
      try {
        return this.makeJob(active, control);
      } catch (e) {
        // the library could not be read: the run waits, paused, for the fault to be fixed
        this.recorder.couldNotStart(active, e);
        throw e;
      }
    }, {
      onMessage: (m) => this.recorder.message(active, m),
      onCrash: (message) => this.recorder.crashed(active, message),
    }, this.row(runId).hyperparameters.threads);
  }

  private makeJob(active: ActiveRun, control: SharedArrayBuffer): TrainJob {
    const runId = active.runId;
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
      spec: run.spec, config: toTrainConfig(h), seed: h.seed, kernels: h.kernels, threads: h.threads, progressEvery: h.progressEvery, healthEvery: h.healthEvery,
      snapshotMinutes: h.snapshotMinutes, wallTimeOffset: run.trainSeconds, control,
    };
    if (snapshot) job.state = snapshot.state;
    else if (run.parentSnapshotId !== null) {
      const parent = store.snapshot(run.parentSnapshotId);
      if (!parent) throw new Error(`the snapshot run ${runId} was forked from no longer exists`);
      job.initialWeights = readTrainerState(parent.state).weights;
    } else if (run.parentRunId !== null) throw new Error(`the snapshot run ${runId} was forked from no longer exists`);
    return job;
  }
}
