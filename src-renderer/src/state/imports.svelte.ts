/**
 * The import queue: everything dropped, picked or typed is imported one after the other (the
 * service imports one at a time well; two at once would only share the disk), each item with its
 * own status, its progress while it runs and its result after. The import itself is the library's
 * (DatasetsState.runImport); this only orders them.
 */
import type { ImportSource, Refusal } from '../lib/dropped.js';
import type { DatasetsState } from './datasets.svelte.js';

export type QueuedStatus = 'queued' | 'importing' | 'done' | 'failed' | 'cancelled';

export interface QueuedImport {
  id: number;
  label: string;
  source: ImportSource['kind'] | 'refused';
  status: QueuedStatus;
  /** Progress when it ended (the live one is the library's `importing`). */
  done: number;
  total: number;
  /** The result in words: what was imported, or why not. */
  message: string | null;
}

export class ImportQueue {
  items = $state<QueuedImport[]>([]);
  private readonly sources = new Map<number, ImportSource>();
  private nextId = 1;
  private draining = false;

  constructor(private readonly datasets: DatasetsState) {}

  /** Queues the sources (refusals are listed as failed at once) and starts on them if idle. */
  add(sources: readonly ImportSource[], refused: readonly Refusal[] = []): void {
    for (const r of refused) this.items.push({ id: this.nextId++, label: r.label, source: 'refused', status: 'failed', done: 0, total: 0, message: r.message });
    for (const s of sources) {
      const id = this.nextId++;
      this.sources.set(id, s);
      this.items.push({ id, label: s.label, source: s.kind, status: 'queued', done: 0, total: 0, message: null });
    }
    if (!this.draining) void this.drain();
  }

  /** Takes a waiting item out of the queue (the one importing is cancelled with the library's Cancel). */
  remove(id: number): void {
    const i = this.items.findIndex((x) => x.id === id && x.status !== 'importing');
    if (i < 0) return;
    this.items.splice(i, 1);
    this.sources.delete(id);
  }

  clearFinished(): void {
    this.items = this.items.filter((x) => x.status === 'queued' || x.status === 'importing');
  }

  get waiting(): number {
    return this.items.filter((x) => x.status === 'queued').length;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        const source = this.sources.get(item.id)!;
        this.sources.delete(item.id);
        this.update(item.id, { status: 'importing' });
        const outcome = await this.datasets.runImport(source);
        // a finished item's bar is full; a failed one stays where it stopped
        const total = Math.max(outcome.progress.total, 1);
        this.update(item.id, outcome.ok
          ? { status: 'done', message: outcome.notice, done: total, total }
          : { status: outcome.cancelled ? 'cancelled' : 'failed', message: outcome.message, ...outcome.progress });
      }
    } finally {
      this.draining = false;
    }
  }

  private next(): QueuedImport | undefined {
    return this.items.find((x) => x.status === 'queued');
  }

  private update(id: number, patch: Partial<QueuedImport>): void {
    const i = this.items.findIndex((x) => x.id === id);
    if (i >= 0) this.items[i] = { ...this.items[i]!, ...patch };
  }
}
