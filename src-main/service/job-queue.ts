/**
 * A bound on work that holds memory while it runs (an import decodes a dataset, an evaluation
 * loads one and a model): at most `concurrency` jobs at once, at most `maxWaiting` more waiting
 * their turn, and anything beyond that refused at once with the numbers — never an unbounded pile
 * of workers. A waiting job can be cancelled through its signal.
 */
import { ServiceError } from './errors.js';

interface Waiting {
  start: () => void;
  cancel: () => void;
}

export interface JobQueueLimits {
  /** Jobs that run at once. */
  concurrency: number;
  /** Jobs that may wait for a free slot; one more is refused. */
  maxWaiting: number;
}

export class JobQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  /** The most jobs ever running at once (tests check the bound with it). */
  peak = 0;

  /** `what`: the plural that refusals name ("imports", "evaluations"). */
  constructor(private readonly what: string, readonly limits: JobQueueLimits) {
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) throw new Error(`${what} at once must be a positive integer, got ${limits.concurrency}`);
  }

  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Runs `job` once a slot is free. Refuses (code 'busy') when the queue is full; rejects with
   * `cancelled()` if the signal aborts while the job waits (a running job watches the signal itself).
   */
  run<T>(job: () => Promise<T>, options: { signal?: AbortSignal; cancelled: () => Error }): Promise<T> {
    const { concurrency, maxWaiting } = this.limits;
    if (options.signal?.aborted) return Promise.reject(options.cancelled());
    if (this.running >= concurrency && this.waiting.length >= maxWaiting) {
      return Promise.reject(new ServiceError('busy',
        `${this.running} ${this.what} are running and ${this.waiting.length} are waiting already (at most ${concurrency} at once and ` +
        `${maxWaiting} waiting): try again when one has finished`));
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        options.signal?.removeEventListener('abort', onAbort);
        this.running++;
        this.peak = Math.max(this.peak, this.running);
        let settled: Promise<T>;
        try {
          settled = job();
        } catch (e) {
          settled = Promise.reject(e);
        }
        settled.then(resolve, reject).finally(() => {
          this.running--;
          this.waiting.shift()?.start();
        });
      };
      const entry: Waiting = { start, cancel: () => reject(options.cancelled()) };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        entry.cancel();
      };
      if (this.running < concurrency) start();
      else {
        this.waiting.push(entry);
        options.signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}
