/**
 * The pace at which live figures change on screen. A small model reports hundreds of batches and
 * tens of epochs a second; drawing each one made the Train view repaint its texts, bars and charts
 * every frame, and the page fell to ~10 frames a second. Events still land in the series at once
 * (nothing is dropped); what the eye sees is updated at most this often.
 *
 * Measured in e2e/training-ui-frame-rate.spec.ts's run (a tiny net ending ~30 epochs a second): a
 * frame that changes anything costs the browser's software compositor tens of milliseconds whatever
 * its size, so what counts is how many such frames there are — the live updates of the page share
 * one LiveClock (the Studio makes it) and land in the same frame.
 */
export const LIVE_UPDATE_MS = 250;

/** One timer for all of a page's live updates: what is requested during a period runs at its end, together. */
export class LiveClock {
  private readonly waiting = new Set<() => void>();
  private tick: ReturnType<typeof setTimeout> | null = null;

  request(fn: () => void): void {
    this.waiting.add(fn);
    this.tick ??= setTimeout(() => {
      this.tick = null;
      const due = [...this.waiting];
      this.waiting.clear();
      for (const f of due) f();
    }, LIVE_UPDATE_MS);
  }

  cancel(fn: () => void): void {
    this.waiting.delete(fn);
  }
}

/**
 * Calls `fn` at most once per tick of its clock: requests during a period join one call at its end.
 * `flush()` runs it now (a run's stored history arriving, a run coming to rest).
 */
export class Coalescer {
  private readonly run = () => this.fn();

  constructor(private readonly fn: () => void, private readonly clock: LiveClock) {}

  request(): void {
    this.clock.request(this.run);
  }

  flush(): void {
    this.cancel();
    this.fn();
  }

  cancel(): void {
    this.clock.cancel(this.run);
  }
}
