/**
 * Evaluating a run: the latest evaluation of each run, the split to evaluate on, and the gallery of
 * its mistakes, a page at a time, with their thumbnails.
 */
import { messageOf, type Client, type EvaluationInfo, type Misclassified, type Thumbnail } from '../lib/api.js';
import type { RunsState } from './runs.svelte.js';

export type Split = EvaluationInfo['split'];

/** Misclassified images per gallery page. */
export const PAGE_SIZE = 24;

/** The dataset split an evaluation's indices point into: validation and train evaluations index the training images. */
export function thumbnailSplit(split: Split): 'train' | 'test' {
  return split === 'test' ? 'test' : 'train';
}

/** Index 7 of one dataset's test images is another image than index 7 of its training images or of another dataset. */
const thumbnailKey = (datasetId: number, split: Split, index: number) => `${datasetId}/${thumbnailSplit(split)}/${index}`;

export class EvaluationState {
  /** Keyed by run id so switching runs shows each one's own result. */
  byRun = $state.raw<Record<number, EvaluationInfo>>({});
  current = $derived.by(() => (this.runs.selectedId !== null ? this.byRun[this.runs.selectedId] ?? null : null));
  /** The split the next evaluation uses; null = the service's default (test, else validation). */
  split = $state<Split | null>(null);
  running = $state<number | null>(null);
  error = $state<string | null>(null);
  /** The gallery page shown per evaluation id. */
  private pages = $state.raw<Record<number, number>>({});
  page = $derived(this.current ? this.pages[this.current.id] ?? 0 : 0);
  pageCount = $derived(this.current ? Math.ceil(this.current.misclassified.length / PAGE_SIZE) : 0);
  pageItems = $derived(this.current ? this.current.misclassified.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE) : []);
  private thumbnails = $state.raw<Record<string, Thumbnail>>({});

  constructor(private readonly client: Client, private readonly runs: RunsState) {}

  /** The newest stored evaluation of the selected run (from its detail), if there is one. */
  adoptStored(): void {
    const d = this.runs.detail;
    if (!d || this.byRun[d.id]) return;
    // the newest evaluation of the run's newest snapshot: time travel stores older snapshots' too
    const newestSnapshot = d.snapshots[d.snapshots.length - 1]?.id;
    const latest = [...d.evaluations].reverse().find((e) => e.snapshotId === newestSnapshot) ?? d.evaluations[d.evaluations.length - 1];
    if (latest) {
      this.byRun = { ...this.byRun, [d.id]: latest };
      void this.loadPage(latest, 0);
    }
  }

  async evaluate(runId: number): Promise<void> {
    this.running = runId;
    this.error = null;
    try {
      const e = await this.client.get('evaluateRun', { runId, ...(this.split !== null ? { split: this.split } : {}) });
      this.byRun = { ...this.byRun, [runId]: e };
      await this.loadPage(e, 0);
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.running = null;
    }
  }

  /** Stops the evaluation in progress; evaluate() then shows "evaluation of run N cancelled". */
  async cancel(): Promise<void> {
    if (this.running === null) return;
    try {
      await this.client.get('cancelEvaluation', { runId: this.running });
    } catch (err) {
      this.error = messageOf(err);
    }
  }

  async showPage(page: number): Promise<void> {
    if (!this.current || page < 0 || page >= this.pageCount) return;
    await this.loadPage(this.current, page);
  }

  thumbnailOf(e: EvaluationInfo, m: Misclassified): Thumbnail | undefined {
    return this.thumbnails[thumbnailKey(e.datasetId, e.split, m.index)];
  }

  private async loadPage(e: EvaluationInfo, page: number): Promise<void> {
    this.pages = { ...this.pages, [e.id]: page };
    const indices = e.misclassified.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((m) => m.index)
      .filter((i) => !(thumbnailKey(e.datasetId, e.split, i) in this.thumbnails));
    if (indices.length === 0) return;
    try {
      const thumbs = await this.client.get('getThumbnails', { datasetId: e.datasetId, split: thumbnailSplit(e.split), indices, scale: 3 });
      const next = { ...this.thumbnails };
      for (const t of thumbs) next[thumbnailKey(e.datasetId, e.split, t.index)] = t;
      this.thumbnails = next;
    } catch (err) {
      this.error = messageOf(err);
    }
  }
}
