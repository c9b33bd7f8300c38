/**
 * Chart.js, registered piece by piece (only what the studio draws), mounted through an attachment:
 * the chart is created once per canvas and then fed in place — `feed()` is read inside a nested
 * effect, so when the state it reads changes the datasets are swapped/extended and drawn with
 * chart.update('none') at the next animation frame (no animation, no re-creation per training tick).
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartOptions, type ChartType,
} from 'chart.js';
import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';

Chart.register(LineController, BarController, LineElement, PointElement, BarElement, LinearScale, CategoryScale, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#475569';

/** A modest palette: one colour per run or per series, in this order. */
export const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777'];

export interface FeedSeries {
  label: string;
  /** Line charts: {x, y} points (mutated in place by the state layer is fine); bar charts: numbers. */
  data: { x: number; y: number | null }[] | number[];
  color: string;
  dashed?: boolean;
  /** Mark every point (e.g. one validation point per epoch); batch curves have too many. */
  points?: boolean;
  /** A thin, pale line behind its smoothed version (raw per-batch values). */
  faint?: boolean;
}

export interface Feed {
  labels?: string[];
  series: FeedSeries[];
}

let chartsCreated = 0;

export function chart<T extends Extract<ChartType, 'line' | 'bar'>>(type: T, options: ChartOptions<T>, feed: () => Feed): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const instance = untrack(() => new Chart(canvas, { type, data: { datasets: [] }, options: { responsive: true, maintainAspectRatio: false, animation: false, ...options } as never }));
    // e2e reads these: the id stays the same while the point count grows (updated in place).
    canvas.dataset.chartId = String(++chartsCreated);
    // Events can come faster than frames (a small model reports hundreds of batches a second):
    // changes are drawn once per animation frame, so the page stays responsive.
    let frame: number | null = null;
    let points = 0;
    const draw = () => {
      frame = null;
      instance.update('none');
      canvas.dataset.points = String(points);
    };
    $effect(() => {
      const { labels, series } = feed();
      if (labels) instance.data.labels = labels;
      series.forEach((s, i) => {
        const existing = instance.data.datasets[i];
        const style = {
          label: s.label, borderColor: s.faint ? s.color + '45' : s.color, backgroundColor: type === 'bar' ? s.color + 'cc' : s.color,
          borderDash: s.dashed ? [5, 4] : [],
          pointRadius: type === 'line' ? (s.points ? 3.5 : 0) : undefined, borderWidth: type === 'line' ? (s.faint ? 1 : 2) : 0,
        };
        if (existing) Object.assign(existing, style, { data: s.data });
        else instance.data.datasets.push({ ...style, data: s.data } as never);
      });
      instance.data.datasets.length = series.length;
      points = series.reduce((n, s) => n + s.data.length, 0);
      frame ??= requestAnimationFrame(draw);
    });
    return () => {
      if (frame !== null) cancelAnimationFrame(frame);
      instance.destroy();
    };
  };
}

/** Options for a metric-over-steps/epochs line chart. */
export function lineOptions(xTitle: string, yTitle: string, y: { min?: number; max?: number } = {}): ChartOptions<'line'> {
  return {
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } }, tooltip: { enabled: true } },
    scales: {
      x: { type: 'linear', title: { display: true, text: xTitle }, ticks: { precision: 0 }, grid: { color: '#eef2f7' } },
      y: { type: 'linear', title: { display: true, text: yTitle }, grid: { color: '#eef2f7' }, ...y },
    },
  };
}
