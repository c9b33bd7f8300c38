/**
 * What a run's worker reports, written down: batch rows through the metric buffer, an epoch's
 * metrics and snapshot in one transaction, its statuses — and every subscriber told. Recording
 * never throws: a write that fails (disk full, damaged file) stalls the run — its worker is asked
 * to pause and nothing more is written for it, so the library keeps exactly what was committed —
 * and a status that cannot be written is kept (and shown) here until it can be.
 */
import type { RunStatus, RunSummary } from '../contract/index.js';
import { describeStorageFailure } from '../db/failure.js';
import type { WorkerMessage } from '../training/protocol.js';
import type { ServiceContext } from './context.js';
import { MetricBuffer } from './metric-buffer.js';

/** A run whose worker is alive or queued in this process. */
export interface ActiveRun {
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
  /** Why recording the run failed: its worker was asked to pause and nothing more is written for it. */
  stalled: string | null;
}

/** A status this process could not write (the disk was full): shown instead of the row's until it is written. */
export interface Unrecorded {
  status: RunStatus;
  error: string | null;
  stopReason: string | null;
}

/** What the recorder needs of the run queue. */
export interface RecordedRuns {
  active(runId: number): ActiveRun | undefined;
  /** Asks the run's worker to pause at the end of its batch. */
  pause(runId: number): void;
  /** The run's worker is done (or never started): it leaves the active runs. */
  ended(runId: number): void;
}

const ACTIVE: ReadonlySet<RunStatus> = new Set(['queued', 'running']);

export class RunRecorder {
  private readonly unrecorded = new Map<number, Unrecorded>();
  private readonly metrics: MetricBuffer;

  constructor(private readonly ctx: ServiceContext, flushIntervalMs: number, private readonly runs: RecordedRuns) {
    this.metrics = new MetricBuffer(ctx.store, flushIntervalMs, (error, runIds) => {
      for (const id of runIds) {
        const a = this.runs.active(id);
        if (a) this.stall(a, error, 'writing batch metrics');
      }
    });
  }

  /** The row as this process knows it: with the status it could not write, if any. */
  withUnrecorded<T extends RunSummary>(r: T): T {
    const u = this.unrecorded.get(r.id);
    return u && ACTIVE.has(r.status) ? { ...r, status: u.status, error: u.error, stopReason: u.stopReason ?? r.stopReason } : r;
  }

  unrecordedStatus(runId: number): Unrecorded | undefined {
    return this.unrecorded.get(runId);
  }

  /** The status was written after all (or the run is resumed or deleted). */
  forget(runId: number): void {
    this.unrecorded.delete(runId);
  }

  /** Writes a status and tells every subscriber; throws when the write fails. */
  setStatus(id: number, status: RunStatus, error: string | null = null, stopReason: string | null = null): void {
    const before = this.ctx.store.getRun(id);
    if (!before) return;
    this.ctx.store.setStatus(id, status, error, stopReason);
    this.ctx.events.emit('runStatus', { runId: id, status, previous: before.status, error, stopReason: stopReason ?? before.stopReason, kernelsUsed: before.kernelsUsed });
  }

  /**
   * A run's last status in this process: written when the disk lets us, else kept in memory (and
   * shown) until it can be written — by a later look, close(), or the next start. Never throws.
   */
  finish(id: number, status: RunStatus, error: string | null, stopReason: string | null): void {
    try {
      this.setStatus(id, status, error, stopReason);
      this.unrecorded.delete(id);
    } catch {
      this.unrecorded.set(id, { status, error, stopReason });
      this.ctx.events.emit('runStatus', { runId: id, status, previous: 'running', error, stopReason, kernelsUsed: null });
    }
    this.runs.ended(id);
  }

  /** The job could not even be made (the library could not be read): the run will end paused with why. */
  couldNotStart(a: ActiveRun, error: unknown): void {
    a.stalled = describeStorageFailure(error, 'resume');
  }

  /** The worker died without a final message. */
  crashed(a: ActiveRun, message: string): void {
    // what the crashed worker reported is kept (a failed run's rows are its story); a stalled run writes nothing more
    const pending = this.metrics.take(a.runId);
    if (!a.stalled) {
      try {
        this.ctx.store.insertBatches(pending);
      } catch {
        // the run fails anyway; its rows after the last snapshot are let go
      }
    }
    if (a.stalled) this.finish(a.runId, 'paused', a.stalled, null);
    else this.finish(a.runId, 'failed', message, null);
  }

  /** Writes what is buffered and, once more, the statuses a full disk kept out; what still fails is an interrupted run at the next start. */
  close(): void {
    this.metrics.close();
    for (const [id, u] of this.unrecorded) {
      try {
        this.ctx.store.setStatus(id, u.status, u.error, u.stopReason);
        this.unrecorded.delete(id);
      } catch {
        // left for the next start
      }
    }
  }

  /** Recording the run failed: ask its worker to pause and write nothing more for it (its last snapshot stands). */
  private stall(a: ActiveRun, error: unknown, doing: string): void {
    if (a.stalled) return;
    const words = describeStorageFailure(error, 'resume') ?? `the studio could not record the run (${(error as Error)?.message ?? String(error)}): resume to continue`;
    a.stalled = `${words} (${doing} failed; everything saved before it is kept)`;
    this.metrics.take(a.runId);
    this.runs.pause(a.runId);
  }

  /** A message from the run's worker. */
  message(a: ActiveRun, m: WorkerMessage): void {
    try {
      this.record(a, m);
    } catch (e) {
      this.stall(a, e, m.type === 'epoch' ? `writing epoch ${m.metrics.epoch + 1}'s metrics and snapshot` : m.type === 'ended' ? 'writing the pause snapshot' : m.type === 'snapshot' ? 'writing a snapshot within the epoch' : `recording "${m.type}"`);
      // the worker has ended: the run ends here, paused, with the reason
      if (m.type === 'ended' || m.type === 'failed') this.finish(a.runId, 'paused', a.stalled, null);
    }
  }

  private record(a: ActiveRun, m: WorkerMessage): void {
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
        // a health measurement travels with its batch row: buffered and written with it
        if (!a.stalled) this.metrics.push({ runId, ...row, wallTime: m.wallTime, ...(m.health ? { health: m.health } : {}) });
        this.ctx.events.emit('runProgress', { runId, kind: 'batch', ...row, batchesPerEpoch: e.batchesPerEpoch, wallTime: m.wallTime, imagesPerSecond: m.imagesPerSecond });
        if (m.health) this.ctx.events.emit('runHealth', { runId, step: row.step, epoch: row.epoch, batch: row.batch, layers: m.health, batchesPerEpoch: e.batchesPerEpoch });
        return;
      }
      case 'epoch': {
        if (a.stalled) return;
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
        if (a.stalled) return;
        // Within an epoch: the rows reported so far go with it, so a resume from here rewinds nothing it reported.
        store.insertSnapshot(runId, { epoch: epochOf(m.epoch), batch: m.batch, step: stepOf(m.step) }, 'interval', m.state, this.metrics.take(runId), m.wallTime - a.lastWallTime);
        a.lastWallTime = m.wallTime;
        return;
      }
      case 'ended': {
        if (a.stalled) {
          // The pause snapshot would follow an epoch that was not recorded: the last committed one stands.
          this.finish(runId, 'paused', a.stalled, null);
          return;
        }
        const pending = this.metrics.take(runId);
        if (m.state) {
          store.insertSnapshot(runId, { epoch: epochOf(m.epoch), batch: m.batch, step: stepOf(m.step) }, m.reason === 'paused' ? 'pause' : 'stop', m.state, pending, m.wallTime - a.lastWallTime);
        } else {
          store.insertBatches(pending);
          store.addTrainSeconds(runId, m.wallTime - a.lastWallTime);
        }
        a.lastWallTime = m.wallTime;
        if (m.reason === 'paused') this.finish(runId, 'paused', null, null);
        else if (m.reason === 'stopped') this.finish(runId, 'stopped', null, 'stopped');
        else this.finish(runId, 'completed', null, m.reason);
        return;
      }
      case 'failed': {
        const pending = this.metrics.take(runId);
        try {
          if (!a.stalled) store.insertBatches(pending);
          // the loss went non-finite: where, in the run's numbering, and the first layer that did
          const f = m.nonFinite;
          if (f && !a.stalled) store.insertHealthFailure(runId, { ...f, step: stepOf(f.step), epoch: a.epochOffset + f.epoch });
        } catch {
          // the run failed anyway; its rows after the last snapshot are let go
        }
        if (a.stalled) this.finish(runId, 'paused', a.stalled, null);
        else this.finish(runId, 'failed', m.message, m.code);
        return;
      }
      case 'evaluated':
        return;
    }
  }
}
