/**
 * Time travel over a run's epoch snapshots: the slider's stops (one per completed epoch, with that
 * epoch's validation accuracy), and, for the stop chosen, the Look inside view's filters and feature
 * maps (InspectState, on that snapshot) and its evaluation — confusion matrix and per-class scores.
 * An evaluation is computed once per snapshot and stored by the service (evaluateRun with reuse);
 * kept here too, so moving back to a stop is instant.
 *
 * Moves arrive faster than workers answer (an arrow key held down): the newest wish wins, and the
 * answers for one stop are awaited before the next stop is asked for, so at most one stop's work
 * is in flight (the service refuses more than a few inspections at once).
 */
import { messageOf, type Client, type EvaluationInfo, type RunDetail, type SnapshotInfo } from '../lib/api.js';
import type { InspectState } from './inspect.svelte.js';
import type { RunsState } from './runs.svelte.js';

export interface EpochStop {
  snapshot: SnapshotInfo;
  epoch: number;
  /** That epoch's validation accuracy; null when the run holds out no validation images. */
  valAccuracy: number | null;
}

/** One stop per completed epoch: the last snapshot taken at that epoch's end. */
export function epochStops(detail: RunDetail | null): EpochStop[] {
  if (!detail) return [];
  const byEpoch = new Map<number, SnapshotInfo>();
  for (const s of detail.snapshots) if (s.batch === 0 && s.epoch > 0) byEpoch.set(s.epoch, s);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch).map((snapshot) => ({
    snapshot, epoch: snapshot.epoch, valAccuracy: detail.epochs.find((e) => e.epoch === snapshot.epoch)?.valAccuracy ?? null,
  }));
}

type Wish = { runId: number; snapshotId: number | null };

export class TimeTravelState {
  stops = $derived.by(() => epochStops(this.runs.detail && this.runs.detail.id === this.runs.selectedId ? this.runs.detail : null));
  /** The snapshot chosen (null: the run's latest), as soon as it is chosen; what is shown follows. */
  wanted = $state.raw<Wish | null>(null);
  /** The slider's position among the stops. */
  position = $derived.by(() => {
    const w = this.wanted;
    if (!w || w.snapshotId === null) return this.stops.length - 1;
    return this.stops.findIndex((s) => s.snapshot.id === w.snapshotId);
  });
  /** The evaluation of the snapshot shown, on the service's default split (test, else validation). */
  evaluation = $state.raw<EvaluationInfo | null>(null);
  evaluating = $state(false);
  error = $state<string | null>(null);
  private readonly evaluations = new Map<string, EvaluationInfo>();
  private travelling = false;

  constructor(private readonly client: Client, private readonly runs: RunsState, private readonly inspect: InspectState) {}

  /** Shows the selected run at this snapshot (null: its latest). */
  async travel(snapshotId: number | null): Promise<void> {
    const runId = this.runs.selectedId;
    if (runId === null) return;
    this.wanted = { runId, snapshotId };
    if (this.travelling) return; // the loop below takes the newest wish once the current one is shown
    this.travelling = true;
    try {
      let shown: Wish | null = null;
      while (this.wanted && (shown?.runId !== this.wanted.runId || shown.snapshotId !== this.wanted.snapshotId)) {
        const wish: Wish = this.wanted;
        shown = wish;
        this.inspect.reset(wish.snapshotId);
        await Promise.all([this.inspect.refresh(), this.loadEvaluation(wish)]);
      }
    } finally {
      this.travelling = false;
    }
  }

  private async loadEvaluation(wish: Wish): Promise<void> {
    const key = `${wish.runId}/${wish.snapshotId ?? 'latest'}`;
    const kept = wish.snapshotId !== null ? this.evaluations.get(key) : undefined;
    this.error = null;
    if (kept) {
      this.evaluation = kept;
      this.evaluating = false;
      return;
    }
    this.evaluation = null;
    this.evaluating = true;
    try {
      const e = await this.client.get('evaluateRun', { runId: wish.runId, ...(wish.snapshotId !== null ? { snapshotId: wish.snapshotId } : {}), reuse: true });
      this.evaluations.set(`${wish.runId}/${e.snapshotId}`, e);
      if (this.wanted === wish) this.evaluation = e;
    } catch (err) {
      if (this.wanted === wish) this.error = messageOf(err);
    } finally {
      if (this.wanted === wish) this.evaluating = false;
    }
  }
}
