/**
 * Chart.js, registered piece by piece (only what the studio draws), mounted through an attachment:
 * the chart is created once per canvas and then fed in place — `feed()` is read inside a nested
 * effect, so when the state it reads changes the datasets are swapped/extended and drawn with
 * chart.update('none') at the next animation frame (no animation, no re-creation per training tick).
 * Every chart gets a "PNG" button in its box that saves what it shows (savePng).
 */
import {
  BarController, BarElement, CategoryScale, Chart, Decimation, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip,
  type ChartOptions, type ChartType,
} from 'chart.js';
import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';

Chart.register(LineController, BarController, ScatterController, LineElement, PointElement, BarElement, LinearScale, LogarithmicScale, CategoryScale, Decimation, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#475569';

/** A colour of the current theme (app.css), read when a chart draws, so charts follow a theme switch. */
export const themeColour = (name: string, fallback: string) => () =>
  (typeof document === 'undefined' ? '' : getComputedStyle(document.documentElement).getPropertyValue(name).trim()) || fallback;
export const gridColour = themeColour('--chart-grid', '#eef2f7');
export const textColour = themeColour('--chart-text', '#475569');

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
  /** Scatter charts: the points' size and shape (the best run is drawn larger, as a star). */
  radius?: number;
  pointStyle?: 'circle' | 'star' | 'rectRot' | 'triangle';
}

export interface Feed {
  labels?: string[];
  series: FeedSeries[];
}

let chartsCreated = 0;

/**
 * Saves the chart as a PNG download named after its label, on the page's panel colour (a chart's
 * own background is transparent, which would be unreadable in the other theme).
 */
export function savePng(source: HTMLCanvasElement, label: string): void {
  const copy = document.createElement('canvas');
  copy.width = source.width;
  copy.height = source.height;
  const g = copy.getContext('2d')!;
  g.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--panel').trim() || '#ffffff';
  g.fillRect(0, 0, copy.width, copy.height);
  g.drawImage(source, 0, 0);
  const a = document.createElement('a');
  a.href = copy.toDataURL('image/png');
  a.download = `${label.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart'}.png`;
  a.click();
}

/** The button that saves a chart; placed in the chart's box (position: relative), removed with the chart. */
function pngButton(canvas: HTMLCanvasElement): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'chart-png';
  button.textContent = 'PNG';
  button.dataset.testid = 'chart-png';
  const label = () => canvas.getAttribute('aria-label') ?? 'chart';
  button.title = 'save this chart as a PNG image';
  button.addEventListener('focus', () => button.setAttribute('aria-label', `save ${label()} as PNG`));
  button.setAttribute('aria-label', `save ${label()} as PNG`);
  button.addEventListener('click', () => savePng(canvas, label()));
  canvas.parentElement?.append(button);
  return button;
}

export function chart<T extends Extract<ChartType, 'line' | 'bar' | 'scatter'>>(type: T, options: ChartOptions<T>, feed: () => Feed): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    // legends and bar charts' ticks take the default colour: the theme's, as it is when the chart is made
    Chart.defaults.color = textColour();
    const instance = untrack(() => new Chart(canvas, { type, data: { datasets: [] }, options: { responsive: true, maintainAspectRatio: false, animation: false, ...options } as never }));
    const png = untrack(() => pngButton(canvas));
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
          pointRadius: type === 'line' ? (s.points ? 3.5 : 0) : type === 'scatter' ? (s.radius ?? 4) : undefined,
          borderWidth: type === 'line' ? (s.faint ? 1 : 2) : type === 'scatter' ? 1 : 0,
          ...(type === 'scatter' ? { pointStyle: s.pointStyle ?? 'circle', pointHoverRadius: (s.radius ?? 4) + 2 } : {}),
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
      png.remove();
      instance.destroy();
    };
  };
}

/**
 * Options for a metric-over-steps/epochs line chart. A long run charted every batch has tens of
 * thousands of points per line: above 4 per pixel of width a line is drawn from each pixel
 * column's first, lowest, highest and last point (Chart.js's min-max decimation — the spikes stay,
 * the cost per draw stays bounded by the chart's width).
 */
export function lineOptions(xTitle: string, yTitle: string, y: { min?: number; max?: number } = {}): ChartOptions<'line'> {
  return {
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } }, tooltip: { enabled: true }, decimation: { enabled: true, algorithm: 'min-max' } },
    scales: {
      x: { type: 'linear', title: { display: true, text: xTitle }, ticks: { precision: 0, color: textColour }, grid: { color: gridColour } },
      y: { type: 'linear', title: { display: true, text: yTitle }, ticks: { color: textColour }, grid: { color: gridColour }, ...y },
    },
  };
}
