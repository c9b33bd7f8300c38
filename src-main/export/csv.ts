/**
 * Metrics as CSV (RFC 4180 quoting, "\n" line ends, header row first). A missing or null value is an
 * empty cell; numbers are written in JavaScript's shortest round-trip form, so reading the file back
 * gives the exact stored float64; NaN and ±Infinity are written as NaN, Infinity, -Infinity (which
 * pandas and spreadsheets read as such).
 */

/** One row per epoch. */
export const EPOCH_METRIC_COLUMNS = [
  'epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'images_per_second', 'wall_seconds',
] as const;

/** One row per N batches. */
export const BATCH_METRIC_COLUMNS = ['step', 'epoch', 'batch', 'train_loss', 'train_accuracy', 'learning_rate', 'wall_seconds'] as const;

export type MetricRow = Record<string, number | string | null | undefined>;

/** train_loss → trainLoss, so rows straight from the engine's EpochMetrics/BatchEvent work too. */
function camelCase(column: string): string {
  return column.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

export function csvCell(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A CSV of `rows` with the given columns (default: the per-epoch columns). A cell is looked up by its
 * column name, then by its camelCase form (`train_loss`, then `trainLoss`); keys not in `columns`
 * are left out.
 */
export function metricsCsv(rows: ReadonlyArray<MetricRow>, columns: readonly string[] = EPOCH_METRIC_COLUMNS): string {
  if (columns.length === 0) throw new Error('metricsCsv: at least one column is needed');
  const lines = [columns.map(csvCell).join(',')];
  const keys = columns.map((c) => [c, camelCase(c)] as const);
  for (const row of rows) {
    lines.push(keys.map(([snake, camel]) => csvCell(snake in row ? row[snake] : row[camel])).join(','));
  }
  return lines.join('\n') + '\n';
}

/** The per-N-batch series: step, epoch, batch, train_loss, train_accuracy, learning_rate, wall_seconds.
 *  Engine BatchEvents ({ step, epoch, batch, loss, accuracy, learningRate }) are accepted as they are. */
export function batchMetricsCsv(rows: ReadonlyArray<MetricRow>, columns: readonly string[] = BATCH_METRIC_COLUMNS): string {
  return metricsCsv(rows.map((r) => ('loss' in r || 'accuracy' in r ? { train_loss: r.loss, train_accuracy: r.accuracy, ...r } : r)), columns);
}
