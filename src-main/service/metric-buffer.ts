/**
 * Batch metric rows wait here and are written in one transaction at most every `intervalMs`
 * (an epoch's end or a pause takes its run's rows into that commit instead), so writing metrics
 * costs a fraction of a percent of training time.
 */
import type { BatchMetricsRow } from '../contract/index.js';
import type { Store } from '../db/store.js';

export type PendingBatch = BatchMetricsRow & { runId: number };

export class MetricBuffer {
  private readonly pending = new Map<number, PendingBatch[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: Store, private readonly intervalMs: number) {}

  push(row: PendingBatch): void {
    let rows = this.pending.get(row.runId);
    if (!rows) this.pending.set(row.runId, (rows = []));
    rows.push(row);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.intervalMs);
    }
  }

  /** The run's rows not yet written, for a commit of its own. */
  take(runId: number): PendingBatch[] {
    const rows = this.pending.get(runId) ?? [];
    this.pending.delete(runId);
    return rows;
  }

  /** Writes every buffered row in one transaction. */
  flush(): void {
    if (!this.store.db.open) return;
    const rows = [...this.pending.values()].flat();
    this.pending.clear();
    this.store.insertBatches(rows);
  }

  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
