/**
 * Training health of the run the Train view shows: its stored measurements and findings (the
 * service's runHealth), then live — each runHealth event of that run extends the per-layer series
 * in place, and the findings are asked for again when the run's status changes and, while it trains
 * (measurements arriving, epochs ending), at most every few seconds: a small model ends several
 * epochs a second, and asking at each one rebuilt every series from every record many times a
 * second (the Train view drew at ~15 fps). The series arrays are plain (Chart.js reads them);
 * `version` says "draw again", at most every LIVE_UPDATE_MS while measurements stream.
 */
import type { HealthRecord, RunHealthResponse } from '../../../src-main/contract/index.js';
import { messageOf, type Client } from '../lib/api.js';
import { Coalescer, LiveClock } from '../lib/cadence.js';
import type { Point } from './runs.svelte.js';

/** What the small charts plot, per layer, over the run's steps. */
export const HEALTH_METRICS = ['gradientNorm', 'updateRatio', 'deadFraction', 'activationStd'] as const;
export type HealthMetric = (typeof HEALTH_METRICS)[number];
/** Drawn on logarithmic axes (they span decades), where a 0 has no place: a dead layer's zero
 *  gradient is left out of its line (the dead-ReLU chart and the findings say it). */
export const LOG_METRICS: ReadonlySet<HealthMetric> = new Set(['gradientNorm', 'updateRatio']);

export interface LayerSeries {
  index: number;
  label: string;
  points: Record<HealthMetric, Point[]>;
}

/** While measurements stream in, the findings are asked for again at most this often. */
const FINDINGS_EVERY_MS = 3000;

export class HealthState {
  runId = $state<number | null>(null);
  report = $state.raw<RunHealthResponse | null>(null);
  /** Per layer (by index), its points per metric. */
  layers: LayerSeries[] = [];
  version = $state(0);
  error = $state<string | null>(null);
  private asked = 0;
  private lastStep = -Infinity;
  private loadedAt = -Infinity;
  private reload: ReturnType<typeof setTimeout> | null = null;
  /** Measurements land in the series at once; the charts are told on the live cadence. */
  private readonly redraw: Coalescer;

  constructor(private readonly client: Client, clock: LiveClock = new LiveClock()) {
    this.redraw = new Coalescer(() => this.version++, clock);
    client.on('runHealth', (e) => {
      if (e.runId !== this.runId) return;
      this.add(e);
      this.redraw.request();
      this.loadSoon();
    });
    client.on('runStatus', (e) => {
      if (e.runId === this.runId) void this.load(e.runId);
    });
    client.on('runProgress', (e) => {
      if (e.runId === this.runId && e.kind === 'epoch') this.loadSoon();
    });
  }

  /** Asks for the findings again within FINDINGS_EVERY_MS of the last answer, once however many ask. */
  private loadSoon(): void {
    if (this.reload !== null) return;
    const wait = Math.max(0, this.loadedAt + FINDINGS_EVERY_MS - Date.now());
    this.reload = setTimeout(() => {
      this.reload = null;
      if (this.runId !== null) void this.load(this.runId);
    }, wait);
  }

  /** Shows this run's health (again when it is already shown: the stored rows are the truth). */
  async show(runId: number): Promise<void> {
    if (runId !== this.runId) {
      this.runId = runId;
      this.report = null;
      this.layers = [];
      this.lastStep = -Infinity;
      this.version++;
    }
    await this.load(runId);
  }

  private async load(runId: number): Promise<void> {
    const question = ++this.asked;
    this.loadedAt = Date.now();
    try {
      const r = await this.client.get('runHealth', { runId });
      if (question !== this.asked || runId !== this.runId) return;
      this.error = null;
      this.report = r;
      // the stored records are all of them: the series are rebuilt from them, live ones append after
      this.layers = [];
      this.lastStep = -Infinity;
      for (const record of r.records) this.add(record);
      this.version++;
    } catch (e) {
      if (question === this.asked) this.error = messageOf(e);
    }
  }

  private add(record: HealthRecord): void {
    if (record.step <= this.lastStep) return;
    this.lastStep = record.step;
    for (const l of record.layers) {
      let series = this.layers.find((s) => s.index === l.index);
      if (!series) {
        series = { index: l.index, label: l.label, points: { gradientNorm: [], updateRatio: [], deadFraction: [], activationStd: [] } };
        this.layers.push(series);
        this.layers.sort((a, b) => a.index - b.index);
      }
      for (const m of HEALTH_METRICS) {
        const v = l[m];
        // null: the layer has none (no parameters, no ReLU); JSON turns NaN into null too
        if (v !== null && v !== undefined && Number.isFinite(v) && (v > 0 || !LOG_METRICS.has(m))) series.points[m].push({ x: record.step, y: v });
      }
    }
  }
}
