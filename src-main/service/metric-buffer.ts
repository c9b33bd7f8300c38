/**
 * Batch metric rows (and the health measurements taken with them) wait here and are written in one transaction at most every `intervalMs`
 * (an epoch's end or a pause takes its run's rows into that commit instead), so writing metrics
 * costs a fraction of a percent of training time. A flush that cannot be written (disk full) is
 * handed to `onFailure` with the runs it held, never thrown from the timer: those runs pause, and
 * their rows — all after the runs' last snapshot, which a resume starts from — are let go.
 */
import type { PendingBatchRow, Store } from '../db/store.js';

/** A batch row, and the training-health measurement of that step when one was taken (written with it). */
export type PendingBatch = PendingBatchRow;

export class MetricBuffer {
  private readonly pending = new Map<number, PendingBatch[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: Store, private readonly intervalMs: number,
    private readonly onFailure: (error: unknown, runIds: number[]) => void) {}

  push(row: PendingBatch): void {
    let rows = this.pending.get(row.runId);
    if (!rows) this.pending.set(row.runId, (rows = []));
    rows.push(row);
    if (this.intervalMs <= 0) this.flush(); // every row as it comes
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.intervalMs);
    }
  }

  /** The run's rows not yet written, for a commit of its own (or to be let go). */
  take(runId: number): PendingBatch[] {
    const rows = this.pending.get(runId) ?? [];
    this.pending.delete(runId);
    return rows;
  }

  /** Writes every buffered row in one transaction; a failure goes to onFailure. */
  flush(): void {
    if (!this.store.db.open || this.pending.size === 0) return;
    const runIds = [...this.pending.keys()];
    const rows = [...this.pending.values()].flat();
    this.pending.clear();
    try {
      this.store.insertBatches(rows);
    } catch (e) {
      this.onFailure(e, runIds);
    }
  }

  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
