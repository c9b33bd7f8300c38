/** Evaluating a run: the latest evaluation of the selected run and thumbnails of its mistakes. */
import { client, messageOf, type EvaluationInfo, type Thumbnail } from '../lib/api.js';
import { runs } from './runs.svelte.js';

const GALLERY = 24;

class EvaluationState {
  /** Keyed by run id so switching runs shows each one's own result. */
  byRun = $state.raw<Record<number, EvaluationInfo>>({});
  current = $derived(runs.selectedId !== null ? this.byRun[runs.selectedId] ?? null : null);
  running = $state<number | null>(null);
  error = $state<string | null>(null);
  thumbnails = $state.raw<Record<number, Thumbnail>>({});

  /** The newest stored evaluation of the selected run (from its detail), if there is one. */
  adoptStored(): void {
    const d = runs.detail;
    if (!d || this.byRun[d.id]) return;
    const latest = d.evaluations[d.evaluations.length - 1];
    if (latest) {
      this.byRun = { ...this.byRun, [d.id]: latest };
      void this.loadThumbnails(latest);
    }
  }

  async evaluate(runId: number): Promise<void> {
    this.running = runId;
    this.error = null;
    try {
      const e = await client.get('evaluateRun', { runId });
      this.byRun = { ...this.byRun, [runId]: e };
      await this.loadThumbnails(e);
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
      await client.get('cancelEvaluation', { runId: this.running });
    } catch (err) {
      this.error = messageOf(err);
    }
  }

  async loadThumbnails(e: EvaluationInfo): Promise<void> {
    const indices = e.misclassified.slice(0, GALLERY).map((m) => m.index).filter((i) => !(i in this.thumbnails));
    if (indices.length === 0) return;
    // Validation and train evaluations index the dataset's training split.
    const split = e.split === 'test' ? 'test' : 'train';
    try {
      const thumbs = await client.get('getThumbnails', { datasetId: e.datasetId, split, indices, scale: 3 });
      const next = { ...this.thumbnails };
      for (const t of thumbs) next[t.index] = t;
      this.thumbnails = next;
    } catch (err) {
      this.error = messageOf(err);
    }
  }
}

export const evaluation = new EvaluationState();
