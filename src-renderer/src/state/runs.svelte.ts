/**
 * Runs: the list (kept current by runStatus events), the run the Train and Evaluate views show,
 * and each watched run's live series. The series arrays are plain (not $state): Chart.js reads
 * and observes them directly; `version` is the one reactive number that says "draw again".
 * Progress events land in the arrays at once; the reactive figures (version, epoch, batch, rate,
 * loss, time, the list's epoch fields) change at most every LIVE_UPDATE_MS (lib/cadence.ts).
 */
import { finalEpoch, queryRuns, type RunQuery } from '../../../src-main/contract/index.js';
import { Coalescer, LiveClock } from '../lib/cadence.js';
import { messageOf, type Client, type RunBatchEvent, type RunDetail, type RunEpochEvent, type RunStatus, type RunSummary } from '../lib/api.js';

export type Point = { x: number; y: number | null };

/** A run's progress as the Train view shows it. */
export interface LiveFigures {
  epoch: number;
  epochs: number;
  batch: number;
  /** Known from the first batch event (or the stored first epoch). */
  batchesPerEpoch: number;
  /** Measured here from batch events while running (images between events / wall time). */
  liveImagesPerSecond: number | null;
  /** The last finished epoch's figure, from the worker. */
  epochImagesPerSecond: number | null;
  /** From the latest batch event: training seconds so far and that batch's loss (live in epoch 1). */
  wallTime: number | null;
  lastBatchLoss: number | null;
}

export class LiveSeries {
  readonly batchLoss: Point[] = [];
  readonly batchAccuracy: Point[] = [];
  /** Exponential moving averages of the batch curves: the trend through per-batch noise. */
  readonly smoothLoss: Point[] = [];
  readonly smoothAccuracy: Point[] = [];
  readonly valLoss: Point[] = [];
  readonly valAccuracy: Point[] = [];
  readonly epochTrainLoss: Point[] = [];
  readonly epochTrainAccuracy: Point[] = [];
  version = $state(0);
  /** What the view shows: the figures as of the last publish (one object, swapped whole). */
  private shown = $state.raw<LiveFigures>({
    epoch: 0, epochs: 0, batch: 0, batchesPerEpoch: 0, liveImagesPerSecond: null, epochImagesPerSecond: null, wallTime: null, lastBatchLoss: null,
  });
  get epoch(): number { return this.shown.epoch; }
  get epochs(): number { return this.shown.epochs; }
  get batch(): number { return this.shown.batch; }
  get batchesPerEpoch(): number { return this.shown.batchesPerEpoch; }
  get liveImagesPerSecond(): number | null { return this.shown.liveImagesPerSecond; }
  get epochImagesPerSecond(): number | null { return this.shown.epochImagesPerSecond; }
  get wallTime(): number | null { return this.shown.wallTime; }
  get lastBatchLoss(): number | null { return this.shown.lastBatchLoss; }
  private lastBatch: { step: number; at: number } | null = null;

  constructor(readonly runId: number, private readonly batchSize: number, epochs: number, clock: LiveClock = new LiveClock()) {
    this.shown = { ...this.shown, epochs };
    this.publisher = new Coalescer(() => this.publish(), clock);
  }

  /** The latest events' figures, shown at the next publish. */
  private latest: LiveFigures | null = null;
  private readonly publisher: Coalescer;

  addBatch(e: RunBatchEvent): void {
    const last = this.batchLoss[this.batchLoss.length - 1];
    if (last && e.step <= last.x) return;
    this.batchLoss.push({ x: e.step, y: e.loss });
    this.batchAccuracy.push({ x: e.step, y: e.accuracy });
    this.smoothLoss.push({ x: e.step, y: ema(this.smoothLoss, e.loss) });
    this.smoothAccuracy.push({ x: e.step, y: ema(this.smoothAccuracy, e.accuracy) });
    const l = this.pending();
    l.epoch = e.epoch;
    l.batch = e.batch;
    l.batchesPerEpoch = e.batchesPerEpoch;
    l.wallTime = e.wallTime;
    l.lastBatchLoss = e.loss;
    const now = performance.now();
    if (this.lastBatch && now > this.lastBatch.at && e.step > this.lastBatch.step) {
      const rate = ((e.step - this.lastBatch.step) * this.batchSize * 1000) / (now - this.lastBatch.at);
      l.liveImagesPerSecond = l.liveImagesPerSecond === null ? rate : 0.8 * l.liveImagesPerSecond + 0.2 * rate;
    }
    this.lastBatch = { step: e.step, at: now };
    this.publisher.request();
  }

  addEpoch(e: RunEpochEvent): void {
    const last = this.epochTrainLoss[this.epochTrainLoss.length - 1];
    if (last && e.step <= last.x) return;
    this.epochTrainLoss.push({ x: e.step, y: e.trainLoss });
    this.epochTrainAccuracy.push({ x: e.step, y: e.trainAccuracy });
    if (e.valLoss !== null) this.valLoss.push({ x: e.step, y: e.valLoss });
    if (e.valAccuracy !== null) this.valAccuracy.push({ x: e.step, y: e.valAccuracy });
    const l = this.pending();
    l.epoch = e.epoch;
    l.epochs = e.epochs;
    l.epochImagesPerSecond = e.imagesPerSecond;
    this.publisher.request();
  }

  /** Shows what arrived since the last publish now (tests; a run coming to rest). */
  flush(): void {
    this.publisher.flush();
  }

  private pending(): LiveFigures {
    return (this.latest ??= { ...this.shown });
  }

  private publish(): void {
    if (this.latest) this.shown = this.latest;
    this.latest = null;
    this.version++;
  }

  /** The stored history, merged under whatever events already arrived while it loaded. */
  seed(detail: RunDetail): void {
    this.publisher.flush();
    const merge = (target: Point[], stored: Point[]) => {
      const newest = stored.length ? stored[stored.length - 1]!.x : -Infinity;
      const later = target.filter((p) => p.x > newest);
      target.length = 0;
      target.push(...stored, ...later);
    };
    merge(this.batchLoss, detail.batches.map((b) => ({ x: b.step, y: b.loss })));
    merge(this.batchAccuracy, detail.batches.map((b) => ({ x: b.step, y: b.accuracy })));
    smoothInto(this.smoothLoss, this.batchLoss);
    smoothInto(this.smoothAccuracy, this.batchAccuracy);
    merge(this.epochTrainLoss, detail.epochs.map((e) => ({ x: e.step, y: e.trainLoss })));
    merge(this.epochTrainAccuracy, detail.epochs.map((e) => ({ x: e.step, y: e.trainAccuracy })));
    merge(this.valLoss, detail.epochs.filter((e) => e.valLoss !== null).map((e) => ({ x: e.step, y: e.valLoss })));
    merge(this.valAccuracy, detail.epochs.filter((e) => e.valAccuracy !== null).map((e) => ({ x: e.step, y: e.valAccuracy })));
    const lastBatch = detail.batches[detail.batches.length - 1];
    const lastEpoch = detail.epochs[detail.epochs.length - 1];
    const f = { ...this.shown };
    if (f.epoch === 0) {
      f.epoch = lastBatch?.epoch ?? lastEpoch?.epoch ?? 0;
      f.batch = lastBatch?.batch ?? 0;
    }
    if (lastEpoch && f.epochImagesPerSecond === null) f.epochImagesPerSecond = lastEpoch.imagesPerSecond;
    // Steps count from the run's start (a fork's from its parent's snapshot), so the first epoch's end step past that is the batches per epoch.
    if (f.batchesPerEpoch === 0 && detail.epochs[0]) f.batchesPerEpoch = detail.epochs[0].step - detail.stepOffset;
    f.epochs = finalEpoch(detail);
    this.shown = f;
    this.version++;
  }
}

const SMOOTHING = 0.9;

function ema(smoothed: Point[], value: number): number {
  const last = smoothed[smoothed.length - 1]?.y;
  return last === undefined || last === null ? value : SMOOTHING * last + (1 - SMOOTHING) * value;
}

function smoothInto(target: Point[], raw: Point[]): void {
  target.length = 0;
  for (const p of raw) target.push({ x: p.x, y: p.y === null ? null : ema(target, p.y) });
}

/** Runs the page holds (newest first): the whole library up to here — the table filters and sorts them itself. */
export const RUNS_HELD = 5000;
/** Rows the runs table and list draw at first, and per "Show more": what keeps a 1,000-run library quick to filter and sort. */
export const ROWS_PAGE = 200;

export const ACTIVE: ReadonlySet<RunStatus> = new Set(['queued', 'running']);
export const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'stopped', 'interrupted']);

export class RunsState {
  list = $state.raw<RunSummary[]>([]);
  /** The runs table's filter and sort (contract/run-query.ts, the same as the service's listRuns). */
  query = $state<RunQuery>({});
  shown = $derived(queryRuns(this.list, this.query));
  loaded = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  selected = $derived(this.list.find((r) => r.id === this.selectedId) ?? null);
  /** The selected run's spec, snapshots and evaluations (batches are in its LiveSeries). */
  detail = $state.raw<RunDetail | null>(null);
  /** A pause/resume/stop in flight, and the last refusal. */
  busy = $state<'pause' | 'resume' | 'stop' | null>(null);
  actionError = $state<string | null>(null);
  /** A rename, a tag or notes being saved (updateRun), and the last refusal. */
  saving = $state(false);
  editError = $state<string | null>(null);
  private readonly series = new Map<number, LiveSeries>();
  /** Epoch ends' figures per run, patched into the list together on the live cadence. */
  private readonly epochPatches = new Map<number, Partial<RunSummary>>();
  private readonly epochPatcher: Coalescer;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /** `clock`: the page's live cadence, shared with the other live states (lib/cadence.ts). */
  constructor(private readonly client: Client, private readonly clock: LiveClock = new LiveClock()) {
    this.epochPatcher = new Coalescer(() => this.patchEpochs(), clock);
    client.on('runStatus', (e) => {
      this.patchEpochs();
      this.series.get(e.runId)?.flush();
      this.patch(e.runId, { status: e.status, error: e.error, stopReason: e.stopReason, kernelsUsed: e.kernelsUsed });
      this.refreshSoon();
      // At rest (paused, stopped, completed, failed) every batch the run reported is stored: the
      // shown run's history is read again, so its charts hold exactly that, even a batch whose
      // event came before the run was in the list.
      if (e.runId === this.selectedId && !ACTIVE.has(e.status)) void this.loadDetail(e.runId);
    });
    // renamed, tagged, evaluated (its test accuracy), deleted — here or in another window or process
    client.on('libraryChanged', (e) => {
      if (e.kind !== 'run') return;
      if (e.change === 'deleted') this.forget([e.id]);
      else if (e.run) this.patch(e.id, e.run);
    });
    client.on('runProgress', (e) => {
      const s = this.seriesFor(e.runId);
      if (!s) return;
      if (e.kind === 'batch') s.addBatch(e);
      else {
        s.addEpoch(e);
        this.epochPatches.set(e.runId, { epochsDone: e.epoch, lastValAccuracy: e.valAccuracy, lastTrainLoss: e.trainLoss });
        this.epochPatcher.request();
      }
    });
  }

  /** Deleted runs leave the list (and the Train view, when it showed one of them). */
  forget(ids: readonly number[]): void {
    const gone = new Set(ids);
    this.list = this.list.filter((r) => !gone.has(r.id));
    for (const id of ids) this.series.delete(id);
    if (this.selectedId !== null && gone.has(this.selectedId)) {
      this.selectedId = null;
      this.detail = null;
    }
  }

  /** Renames, tags or annotates a run; the list shows the service's answer. */
  async update(id: number, changes: { name?: string; notes?: string; tags?: string[] }): Promise<boolean> {
    this.saving = true;
    this.editError = null;
    const result = await this.client.call('updateRun', { id, ...changes });
    this.saving = false;
    if (!result.ok) {
      this.editError = result.error.message;
      return false;
    }
    this.patch(id, result.value);
    return true;
  }

  private patchEpochs(): void {
    this.epochPatcher.cancel();
    if (this.epochPatches.size === 0) return;
    const patches = new Map(this.epochPatches);
    this.epochPatches.clear();
    if ([...patches.keys()].some((id) => !this.list.some((r) => r.id === id))) this.refreshSoon();
    this.list = this.list.map((r) => (patches.has(r.id) ? { ...r, ...patches.get(r.id) } : r));
  }

  private patch(id: number, fields: Partial<RunSummary>): void {
    if (!this.list.some((r) => r.id === id)) return this.refreshSoon();
    this.list = this.list.map((r) => (r.id === id ? { ...r, ...fields } : r));
  }

  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, 150);
  }

  /** The live series of a run, made on first need (needs the run in the list for its batch size). */
  seriesFor(id: number): LiveSeries | null {
    let s = this.series.get(id);
    if (!s) {
      const run = this.list.find((r) => r.id === id);
      if (!run) return null;
      s = new LiveSeries(id, run.hyperparameters.batchSize, finalEpoch(run), this.clock);
      this.series.set(id, s);
    }
    return s;
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.client.get('listRuns', { limit: RUNS_HELD });
      this.error = null;
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.loaded = true;
    }
  }

  /** After the event stream was down (its events are lost): the list and the shown run, read again. */
  async resync(): Promise<void> {
    await this.refresh();
    if (this.selectedId !== null) await this.loadDetail(this.selectedId);
  }

  /** Shows a run: loads its history into its series (once) and its detail. */
  async select(id: number): Promise<void> {
    this.selectedId = id;
    this.actionError = null;
    if (!this.list.some((r) => r.id === id)) await this.refresh();
    await this.loadDetail(id);
  }

  async loadDetail(id: number): Promise<void> {
    try {
      const detail = await this.client.get('getRun', { id, batches: true });
      const s = this.seriesFor(id);
      // A merge: stored rows first, then whatever live events came after them.
      s?.seed(detail);
      if (this.selectedId === id) this.detail = { ...detail, batches: [] };
    } catch (e) {
      this.actionError = messageOf(e);
    }
  }

  /** A run just started from the builder or a fork: list it, watch it from its first event. */
  async adopt(run: RunSummary): Promise<void> {
    if (!this.list.some((r) => r.id === run.id)) this.list = [run, ...this.list];
    this.seriesFor(run.id);
    await this.select(run.id);
  }

  async control(action: 'pause' | 'resume' | 'stop', id: number): Promise<void> {
    this.busy = action;
    this.actionError = null;
    const command = action === 'pause' ? 'pauseRun' : action === 'resume' ? 'resumeRun' : 'stopRun';
    const result = await this.client.call(command, { id });
    this.busy = null;
    if (!result.ok) {
      this.actionError = result.error.message;
      return;
    }
    this.patch(id, result.value);
    if (this.selectedId === id) void this.loadDetail(id);
  }
}
