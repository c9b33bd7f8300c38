/**
 * Work that holds memory is bounded: at most N at once, M more waiting, the rest refused with the
 * numbers — imports, evaluations and queued runs. Counted from the workers really started.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerFactories, type WorkerFactories } from '../worker-factories/index.js';
import { ServiceError } from './errors.js';
import { JobQueue } from './job-queue.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, MLP_SPEC, openService, QUICK, tempDir } from './testing.js';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('JobQueue', () => {
  it('runs at most `concurrency` at once, lets `maxWaiting` wait, refuses the next with the numbers; a waiting job can be cancelled', async () => {
    const q = new JobQueue('jobs', { concurrency: 2, maxWaiting: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const job = (i: number) => () => {
      started.push(i);
      return gates[i]!.promise.then(() => i);
    };
    const cancelled = () => new ServiceError('cancelled', 'cancelled');
    const a = q.run(job(0), { cancelled });
    const b = q.run(job(1), { cancelled });
    const c = q.run(job(2), { cancelled });
    expect(started).toEqual([0, 1]);
    expect(q.size).toEqual({ running: 2, waiting: 1 });
    await expect(q.run(job(0), { cancelled })).rejects.toMatchObject({
      code: 'busy', message: '2 jobs are running and 1 are waiting already (at most 2 at once and 1 waiting): try again when one has finished',
    });
    gates[0]!.resolve();
    expect(await a).toBe(0);
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    // a job that waits can be cancelled: it never starts
    const abort = new AbortController();
    const d = q.run(() => Promise.reject(new Error('must not start')), { signal: abort.signal, cancelled });
    abort.abort();
    await expect(d).rejects.toMatchObject({ code: 'cancelled' });
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect([await b, await c]).toEqual([1, 2]);
    // a job that throws at once frees its slot
    await expect(q.run(() => {
      throw new Error('bad job');
    }, { cancelled })).rejects.toThrow('bad job');
    expect(q.size).toEqual({ running: 0, waiting: 0 });
    expect(q.peak).toBe(2);
  });
});

/** Worker factories that count the evaluation and import workers alive, and the most at once. */
function counted(): { factories: WorkerFactories; peak: { evaluation: number; importer: number } } {
  const alive = { evaluation: 0, importer: 0 };
  const peak = { evaluation: 0, importer: 0 };
  const track = (kind: 'evaluation' | 'importer', w: Worker) => {
    alive[kind]++;
    peak[kind] = Math.max(peak[kind], alive[kind]);
    w.once('exit', () => alive[kind]--);
    return w;
  };
  return {
    peak,
    factories: {
      ...workerFactories,
      evaluation: () => track('evaluation', workerFactories.evaluation()),
      importer: (data) => track('importer', workerFactories.importer(data)),
    },
  };
}

describe('in the service', () => {
  let dir: ReturnType<typeof tempDir>;
  let service: Service;
  let datasetId: number;
  const workers = counted();
  beforeAll(async () => {
    dir = tempDir();
    service = await openService(dir.path, {
      workers: workers.factories, evaluations: { concurrency: 1, maxWaiting: 2 }, imports: { concurrency: 1, maxWaiting: 1 }, maxQueuedRuns: 2,
    });
    datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
  });
  afterAll(async () => {
    await service?.close();
    dir?.remove();
  });

  it('runs: one trains, two wait, the fourth is refused before any row is written', async () => {
    const before = countRows(service, 'runs');
    const h = { ...QUICK, epochs: 1 };
    const accepted = [0, 1, 2].map(() => service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: h }));
    const refused = await service.call('startRun', { datasetId, spec: MLP_SPEC, hyperparameters: h });
    expect(refused).toEqual({ ok: false, error: { code: 'busy', message: '2 runs are waiting for a training slot already (at most 2); start this one when some have finished' } });
    expect(countRows(service, 'runs')).toBe(before + 3);
    for (const r of accepted) expect((await service.runs.waitFor(r.id)).status).toBe('completed');
  });

  it('evaluations: four asked at once — one runs, two wait, one is refused; one evaluation worker at a time; three stored', async () => {
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
    await service.runs.waitFor(run.id);
    const before = countRows(service, 'evaluations');
    const results = await Promise.all([0, 1, 2, 3].map(() => service.call('evaluateRun', { runId: run.id, split: 'test' })));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, error: { code: 'busy', message: '1 evaluations are running and 2 are waiting already (at most 1 at once and 2 waiting): try again when one has finished' } }]);
    expect(workers.peak.evaluation).toBe(1);
    expect(countRows(service, 'evaluations')).toBe(before + 3);

    // cancelling the run's evaluations stops the running one and the waiting one; nothing is stored
    const pending = [service.evaluations.evaluate({ runId: run.id, split: 'train' }), service.evaluations.evaluate({ runId: run.id, split: 'train' })];
    expect(service.evaluations.queue.size).toEqual({ running: 1, waiting: 1 });
    expect(service.evaluations.cancel(run.id)).toEqual({ cancelled: true });
    await Promise.all(pending.map((p) => expect(p).rejects.toMatchObject({ code: 'cancelled' })));
    expect(countRows(service, 'evaluations')).toBe(before + 3);
    expect(service.evaluations.queue.size).toEqual({ running: 0, waiting: 0 });
  });

  it('imports: three asked at once — one runs, one waits, one is refused; one import worker at a time', async () => {
    const thumbs = await service.exec('getThumbnails', { datasetId, split: 'train', indices: Array.from({ length: 30 }, (_, i) => i) });
    const folders = [0, 1, 2].map((k) => {
      const root = join(dir.path, `import-${k}`);
      // different images in each (every third), so each is a dataset of its own
      for (const t of thumbs.filter((x, i) => i % 3 === k && x.label < 3)) {
        mkdirSync(join(root, String(t.label)), { recursive: true });
        writeFileSync(join(root, String(t.label), `${t.index}.png`), Buffer.from(t.base64, 'base64'));
      }
      return root;
    });
    const before = countRows(service, 'datasets');
    const results = await Promise.all(folders.map((path) => service.call('importDataset', { path })));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error)).toEqual([{ code: 'busy', message: '1 imports are running and 1 are waiting already (at most 1 at once and 1 waiting): try again when one has finished' }]);
    expect(workers.peak.importer).toBe(1);
    expect(countRows(service, 'datasets')).toBe(before + 2);
  });
});
