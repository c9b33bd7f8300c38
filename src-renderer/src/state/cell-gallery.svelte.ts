/**
 * One confusion cell's images (true class, predicted class) of an evaluation, a page at a time, as
 * the service pages them from the stored predictions: every image of the cell, each with its top-3
 * probabilities and its thumbnail. Closing it goes back to the evaluation's misclassified examples.
 */
import { messageOf, type Client, type EvaluationImagesResponse, type EvaluationInfo, type Thumbnail } from '../lib/api.js';
import { PAGE_SIZE } from './evaluation.svelte.js';

export interface Cell {
  runId: number;
  evaluationId: number;
  label: number;
  predicted: number;
}

export class CellGalleryState {
  cell = $state.raw<Cell | null>(null);
  page = $state(0);
  /** The page shown; kept until the next one arrives so the gallery does not blink. */
  shown = $state.raw<EvaluationImagesResponse | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  pageCount = $derived(this.shown ? Math.ceil(this.shown.total / PAGE_SIZE) : 0);
  private thumbnails = $state.raw<Record<string, Thumbnail>>({});
  /** The latest page asked for; an answer to an older one is dropped. */
  private asked = 0;

  constructor(private readonly client: Client) {}

  /** The cell of `e` shown, if it is this evaluation's (another evaluation shows its own misclassified). */
  of(e: EvaluationInfo | null): Cell | null {
    return e && this.cell && this.cell.evaluationId === e.id ? this.cell : null;
  }

  async open(e: EvaluationInfo, label: number, predicted: number): Promise<void> {
    this.cell = { runId: e.runId, evaluationId: e.id, label, predicted };
    this.shown = null;
    await this.showPage(0);
  }

  close(): void {
    this.asked++;
    this.cell = null;
    this.shown = null;
    this.error = null;
    this.loading = false;
  }

  async showPage(page: number): Promise<void> {
    const cell = this.cell;
    if (!cell || page < 0 || (this.shown && page >= this.pageCount)) return;
    const question = ++this.asked;
    this.loading = true;
    this.error = null;
    try {
      const r = await this.client.get('evaluationImages', { ...cell, offset: page * PAGE_SIZE, limit: PAGE_SIZE });
      const missing = r.images.map((m) => m.index).filter((i) => !(this.key(r, i) in this.thumbnails));
      if (missing.length > 0) {
        const thumbs = await this.client.get('getThumbnails', { datasetId: r.datasetId, split: r.imageSplit, indices: missing, scale: 3 });
        const next = { ...this.thumbnails };
        for (const t of thumbs) next[this.key(r, t.index)] = t;
        this.thumbnails = next;
      }
      if (question !== this.asked) return;
      this.page = page;
      this.shown = r;
    } catch (err) {
      if (question === this.asked) this.error = messageOf(err);
    } finally {
      if (question === this.asked) this.loading = false;
    }
  }

  thumbnailOf(r: EvaluationImagesResponse, index: number): Thumbnail | undefined {
    return this.thumbnails[this.key(r, index)];
  }

  private key(r: EvaluationImagesResponse, index: number): string {
    return `${r.datasetId}/${r.imageSplit}/${index}`;
  }
}
