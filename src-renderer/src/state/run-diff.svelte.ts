/**
 * The semantic diff of two runs (the service's diffRuns): layer stacks aligned by sequence,
 * hyperparameters, per-class metric deltas, and the test images that flipped between them, whose
 * thumbnails are fetched a page at a time as the gallery shows more.
 */
import type { RunDiff } from '../../../src-main/contract/index.js';
import { messageOf, type Client, type Thumbnail } from '../lib/api.js';

/** Flipped images shown per direction before "Show more". */
export const FLIPPED_PAGE = 24;

export type FlipDirection = 'fixed' | 'broken';

export class RunDiffState {
  diff = $state.raw<RunDiff | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** How many of each direction the gallery shows. */
  shownCount = $state<Record<FlipDirection, number>>({ fixed: FLIPPED_PAGE, broken: FLIPPED_PAGE });
  thumbnails = $state.raw<Record<number, Thumbnail>>({});

  constructor(private readonly client: Client) {}

  /** Diffs run b against run a (a is the "before"). */
  async load(a: number, b: number): Promise<void> {
    this.loading = true;
    this.error = null;
    this.thumbnails = {};
    this.shownCount = { fixed: FLIPPED_PAGE, broken: FLIPPED_PAGE };
    try {
      this.diff = await this.client.get('diffRuns', { a, b });
      await this.loadThumbnails();
    } catch (e) {
      this.diff = null;
      this.error = messageOf(e);
    } finally {
      this.loading = false;
    }
  }

  close(): void {
    this.diff = null;
    this.error = null;
  }

  async more(direction: FlipDirection): Promise<void> {
    this.shownCount = { ...this.shownCount, [direction]: this.shownCount[direction] + FLIPPED_PAGE };
    await this.loadThumbnails();
  }

  private async loadThumbnails(): Promise<void> {
    const e = this.diff?.evaluation;
    if (!e) return;
    const wanted = [...e.fixed.slice(0, this.shownCount.fixed), ...e.broken.slice(0, this.shownCount.broken)]
      .map((f) => f.index).filter((i) => !(i in this.thumbnails));
    if (wanted.length === 0) return;
    const thumbs = await this.client.get('getThumbnails', { datasetId: e.datasetId, split: e.imageSplit, indices: [...new Set(wanted)], scale: 2 });
    const next = { ...this.thumbnails };
    for (const t of thumbs) next[t.index] = t;
    this.thumbnails = next;
  }
}
