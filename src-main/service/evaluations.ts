/**
 * Evaluating a run's snapshot on a split, in a worker of its own (cancellable, a bounded number at
 * once — each loads a dataset and a model); the result is stored with the run.
 */
import type { Worker } from 'node:worker_threads';
import type { EvaluateRunRequest, EvaluationInfo } from '../contract/index.js';
import type { EvaluateJob } from '../training/protocol.js';
import { runInWorker } from '../training/pool.js';
import type { WorkerMessage } from '../training/protocol.js';
import type { ServiceContext } from './context.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError, storageWrite } from './errors.js';
import { JobQueue, type JobQueueLimits } from './job-queue.js';
import type { RunManager } from './runs.js';
import type { DatasetRow, RunRow } from '../db/store.js';
import { checkSpec } from './specs.js';

type Evaluated = Extract<WorkerMessage, { type: 'evaluated' }>;

export class Evaluations {
  /** Evaluations asked for and not yet answered (waiting or running), with how to cancel each. */
  private readonly pending = new Set<{ runId: number; controller: AbortController }>();
  private readonly workers = new Set<Worker>();
  /** Reusable evaluations computing, by snapshot/dataset/split: a second ask for the same one waits for the first. */
  private readonly computing = new Map<string, Promise<EvaluationInfo>>();
  readonly queue: JobQueue;

  constructor(private readonly ctx: ServiceContext, private readonly runs: RunManager, private readonly datasets: DatasetLibrary,
    private readonly maxMisclassified: number, limits: JobQueueLimits) {
    this.queue = new JobQueue('evaluations', limits);
  }

  async evaluate(req: EvaluateRunRequest): Promise<EvaluationInfo> {
    const store = this.ctx.store;
    const run = this.runs.row(req.runId);
    const d = this.datasets.row(req.datasetId ?? run.datasetId);
    if (d.id !== run.datasetId) checkSpec(run.spec, d);
    const snapshot = req.snapshotId !== undefined ? store.snapshot(req.snapshotId) : store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) {
      throw new ServiceError('not_found', req.snapshotId !== undefined ? `run ${run.id} has no snapshot ${req.snapshotId}` : `run ${run.id} has no snapshot yet: train at least one epoch first`);
    }
    const ownSplit = d.id === run.datasetId;
    const split = req.split ?? (d.testCount > 0 ? 'test' : ownSplit && run.hyperparameters.validationSplit > 0 ? 'validation' : 'train');
    if (split === 'test' && d.testCount === 0) throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} has no test set; evaluate on 'validation' or 'train'`, { field: 'split' });
    if (req.reuse) {
      // time travel: a snapshot is evaluated once on these images, then answered from the store
      const stored = store.evaluationOfSnapshot(snapshot.id, d.id, split);
      if (stored) return stored;
      const key = `${snapshot.id}/${d.id}/${split}`;
      const running = this.computing.get(key);
      if (running) return running;
      const computed = this.compute(run, d, snapshot, split, ownSplit).finally(() => this.computing.delete(key));
      this.computing.set(key, computed);
      return computed;
    }
    return this.compute(run, d, snapshot, split, ownSplit);
  }

  private async compute(run: RunRow, d: DatasetRow, snapshot: { id: number; state: Uint8Array }, split: EvaluationInfo['split'], ownSplit: boolean): Promise<EvaluationInfo> {
    const store = this.ctx.store;
    this.datasets.checkCache(d, `evaluate run ${run.id}`);
    const job: EvaluateJob = {
      type: 'evaluate',
      data: { cacheFile: d.cacheFile, validationSplit: ownSplit ? run.hyperparameters.validationSplit : 0, splitSeed: run.hyperparameters.seed, trainLimit: null },
      split, state: snapshot.state, kernels: run.hyperparameters.kernels, classNames: d.classNames, maxMisclassified: this.maxMisclassified,
    };
    const entry = { runId: run.id, controller: new AbortController() };
    this.pending.add(entry);
    try {
      const cancelled = () => new ServiceError('cancelled', `evaluation of run ${run.id} cancelled`);
      const signal = entry.controller.signal;
      const result = await this.queue.run(() => this.inWorker(job, run.id, signal, cancelled), { signal, cancelled });
      if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service closed during the evaluation');
      const stored = storageWrite(() => store.insertEvaluation({
        runId: run.id, datasetId: d.id, snapshotId: snapshot.id, split, accuracy: result.accuracy, loss: result.loss, count: result.count,
        // the library's class names (renamed ones included), not the worker's copy
        perClass: result.perClass.map((c, k) => ({ ...c, className: d.classNames[k] ?? c.className })), confusion: result.confusion,
        misclassified: result.misclassified,
      }, result.predictions, result.top), 'evaluate again');
      // the runs table's test accuracy changes now, not at the next reload
      this.runs.announce(run.id);
      return stored;
    } finally {
      this.pending.delete(entry);
    }
  }

  /** The worker's answer, once the worker has exited: until then it holds its memory, and its slot. */
  private inWorker(job: EvaluateJob, runId: number, signal: AbortSignal, cancelled: () => ServiceError): Promise<Evaluated> {
    return new Promise<Evaluated>((resolvePromise, reject) => {
      let outcome: { result: Evaluated } | { error: ServiceError } | null = null;
      const worker = runInWorker(this.ctx.workers.evaluation, job, {
        onMessage: (m) => {
          if (m.type === 'evaluated') outcome ??= { result: m };
          else if (m.type === 'failed') outcome ??= { error: new ServiceError('internal', `evaluation of run ${runId} failed: ${m.message}`) };
          void worker.terminate();
        },
        onCrash: (message) => void (outcome ??= { error: new ServiceError('internal', `evaluation of run ${runId} failed: ${message}`) }),
      });
      this.workers.add(worker);
      const onAbort = () => {
        outcome ??= { error: cancelled() };
        void worker.terminate();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      worker.once('exit', () => {
        this.workers.delete(worker);
        signal.removeEventListener('abort', onAbort);
        if (outcome && 'result' in outcome) resolvePromise(outcome.result);
        else reject(outcome?.error ?? new ServiceError('internal', `evaluation of run ${runId} ended without an answer`));
      });
    });
  }

  /** Cancels the run's evaluations, waiting or running; each rejects with code 'cancelled'. */
  cancel(runId: number): { cancelled: boolean } {
    let cancelled = false;
    for (const e of this.pending) {
      if (e.runId !== runId || e.controller.signal.aborted) continue;
      e.controller.abort();
      cancelled = true;
    }
    return { cancelled };
  }

  async close(): Promise<void> {
    for (const e of this.pending) e.controller.abort();
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}
