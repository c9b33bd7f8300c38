/**
 * A pool of worker threads for training jobs: at most `size` at once and at most `threadBudget`
 * gradient threads between them (a job of more threads than the budget runs alone); the rest wait in
 * a queue, in order. So two one-thread runs share two cores while a two-thread run has them to itself.
 * Each job gets a fresh worker (a crash takes nothing else with it) and a shared control word
 * that pause/stop set and the worker reads between batches.
 */
import type { Worker } from 'node:worker_threads';
import { CONTROL_RUN, type WorkerJob, type WorkerMessage } from './protocol.js';

/** Makes a worker running training/worker.ts's code (from src-main/worker-factories). */
export type WorkerFactory = () => Worker;

export interface JobHandlers {
  onMessage(message: WorkerMessage): void;
  /** The worker died without a final message (uncaught error, process.exit, killed). */
  onCrash(message: string): void;
}

interface Slot {
  key: number;
  worker: Worker;
  control: Int32Array;
  threads: number;
}

interface Waiting {
  key: number;
  makeJob: (control: SharedArrayBuffer) => WorkerJob;
  handlers: JobHandlers;
  threads: number;
}

const FINAL: ReadonlySet<WorkerMessage['type']> = new Set(['ended', 'failed', 'evaluated']);

/** Runs one job in its own worker; calls exactly one of a final message or onCrash. */
export function runInWorker(factory: WorkerFactory, job: WorkerJob, handlers: JobHandlers, transfer: ArrayBuffer[] = []): Worker {
  const worker = factory();
  let finished = false;
  const crash = (message: string) => {
    if (finished) return;
    finished = true;
    handlers.onCrash(message);
  };
  worker.on('message', (message: WorkerMessage) => {
    if (finished) return;
    if (FINAL.has(message.type)) finished = true;
    handlers.onMessage(message);
  });
  worker.on('error', (e) => crash(`the worker crashed: ${e?.message ?? String(e)}`));
  worker.on('messageerror', (e) => crash(`the worker sent an unreadable message: ${e?.message ?? String(e)}`));
  worker.on('exit', (code) => crash(`the worker exited with code ${code} before finishing`));
  worker.postMessage(job, transfer);
  return worker;
}

export class WorkerPool {
  private readonly running = new Map<number, Slot>();
  private readonly queue: Waiting[] = [];
  private closed = false;

  constructor(readonly size: number, private readonly factory: WorkerFactory, readonly threadBudget = Infinity) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`worker pool size must be a positive integer, got ${size}`);
    if (!(threadBudget >= 1)) throw new Error(`worker pool thread budget must be at least 1, got ${threadBudget}`);
  }

  private get threadsInUse(): number {
    let n = 0;
    for (const s of this.running.values()) n += s.threads;
    return n;
  }

  get runningKeys(): number[] {
    return [...this.running.keys()];
  }

  get queuedKeys(): number[] {
    return this.queue.map((w) => w.key);
  }

  isRunning(key: number): boolean {
    return this.running.has(key);
  }

  isQueued(key: number): boolean {
    return this.queue.some((w) => w.key === key);
  }

  /** Queues a job of `threads` gradient threads; `makeJob` runs when a worker is free, so it reads the latest snapshot then. */
  enqueue(key: number, makeJob: Waiting['makeJob'], handlers: JobHandlers, threads = 1): void {
    if (this.closed) throw new Error('the worker pool is closed');
    if (this.running.has(key) || this.isQueued(key)) throw new Error(`job ${key} is already queued or running`);
    this.queue.push({ key, makeJob, handlers, threads: Math.min(Math.max(1, threads), this.threadBudget) });
    this.pump();
  }

  /** Removes a job that has not started; false when it was not waiting. */
  dequeue(key: number): boolean {
    const i = this.queue.findIndex((w) => w.key === key);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Sets a running job's control word (CONTROL_PAUSE / CONTROL_STOP); false when it is not running. */
  signal(key: number, value: number): boolean {
    const slot = this.running.get(key);
    if (!slot) return false;
    Atomics.store(slot.control, 0, value);
    return true;
  }

  /** Stops taking jobs; running workers are left to the caller (pause them first), then terminated. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all([...this.running.values()].map((s) => s.worker.terminate()));
    this.running.clear();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.size && this.queue.length > 0 && this.threadsInUse + this.queue[0]!.threads <= this.threadBudget) {
      const next = this.queue.shift()!;
      const controlBuffer = new SharedArrayBuffer(4);
      const control = new Int32Array(controlBuffer);
      Atomics.store(control, 0, CONTROL_RUN);
      let job: WorkerJob;
      try {
        job = next.makeJob(controlBuffer);
      } catch (e) {
        next.handlers.onCrash(`could not start the job: ${(e as Error).message}`);
        continue;
      }
      const release = () => {
        if (this.running.get(next.key)?.worker === worker) {
          this.running.delete(next.key);
          queueMicrotask(() => this.pump());
        }
      };
      const worker = runInWorker(this.factory, job, {
        onMessage: (m) => {
          if (FINAL.has(m.type)) release();
          next.handlers.onMessage(m);
        },
        onCrash: (message) => {
          release();
          next.handlers.onCrash(message);
        },
      });
      this.running.set(next.key, { key: next.key, worker, control, threads: next.threads });
    }
  }
}
