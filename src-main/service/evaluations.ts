/** Evaluating a run's snapshot on a split, in a worker of its own (cancellable); the result is stored with the run. */
import type { Worker } from 'node:worker_threads';
import type { EvaluateRunRequest, EvaluationInfo } from '../contract/index.js';
import { runInWorker } from '../training/pool.js';
import type { WorkerMessage } from '../training/protocol.js';
import type { ServiceContext } from './context.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';
import { checkSpec } from './specs.js';

export class Evaluations {
  /** Evaluation workers in flight, with the run they evaluate and how to cancel them. */
  private readonly inFlight = new Map<Worker, { runId: number; cancel: () => void }>();

  constructor(private readonly ctx: ServiceContext, private readonly runs: RunManager, private readonly datasets: DatasetLibrary,
    private readonly maxMisclassified: number) {}

  async evaluate(req: EvaluateRunRequest): Promise<EvaluationInfo> {
    const store = this.ctx.store;
    const run = this.runs.row(req.runId);
    const d = this.datasets.usable(req.datasetId ?? run.datasetId);
    if (d.id !== run.datasetId) checkSpec(run.spec, d);
    const snapshot = req.snapshotId !== undefined ? store.snapshot(req.snapshotId) : store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) {
      throw new ServiceError('not_found', req.snapshotId !== undefined ? `run ${run.id} has no snapshot ${req.snapshotId}` : `run ${run.id} has no snapshot yet: train at least one epoch first`);
    }
    const ownSplit = d.id === run.datasetId;
    const split = req.split ?? (d.testCount > 0 ? 'test' : ownSplit && run.hyperparameters.validationSplit > 0 ? 'validation' : 'train');
    if (split === 'test' && d.testCount === 0) throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} has no test set; evaluate on 'validation' or 'train'`, { field: 'split' });
    const result = await new Promise<Extract<WorkerMessage, { type: 'evaluated' }>>((resolvePromise, reject) => {
      const worker = runInWorker(this.ctx.workers.evaluation, {
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
      this.inFlight.set(worker, {
        runId: run.id,
        cancel: () => {
          reject(new ServiceError('cancelled', `evaluation of run ${run.id} cancelled`));
          void worker.terminate();
        },
      });
      worker.once('exit', () => this.inFlight.delete(worker));
    });
    if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service closed during the evaluation');
    const stored = store.insertEvaluation({
      runId: run.id, datasetId: d.id, snapshotId: snapshot.id, split, accuracy: result.accuracy, loss: result.loss, count: result.count,
      // the library's class names (renamed ones included), not the worker's copy
      perClass: result.perClass.map((c, k) => ({ ...c, className: d.classNames[k] ?? c.className })), confusion: result.confusion, misclassified: result.misclassified,
    }, result.predictions);
    // the runs table's test accuracy changes now, not at the next reload
    this.runs.announce(run.id);
    return stored;
  }

  cancel(runId: number): { cancelled: boolean } {
    let cancelled = false;
    for (const [worker, e] of this.inFlight) {
      if (e.runId !== runId) continue;
      this.inFlight.delete(worker);
      e.cancel();
      cancelled = true;
    }
    return { cancelled };
  }

  async close(): Promise<void> {
    await Promise.all([...this.inFlight.keys()].map((w) => w.terminate()));
  }
}
