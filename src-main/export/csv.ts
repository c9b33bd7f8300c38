/**
 * Metrics as CSV (RFC 4180 quoting, "\n" line ends, header row first). A missing or null value is an
 * empty cell; booleans are true/false; numbers are written in JavaScript's shortest round-trip form, so reading the file back
 * gives the exact stored float64; NaN and ±Infinity are written as NaN, Infinity, -Infinity (which
 * pandas and spreadsheets read as such).
 */

import { csvCell } from '../contract/csv.js';

export { csvCell };

/** One row per epoch. */
export const EPOCH_METRIC_COLUMNS = [
  'epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'images_per_second', 'wall_seconds',
] as const;

/** One row per N batches. */
export const BATCH_METRIC_COLUMNS = ['step', 'epoch', 'batch', 'train_loss', 'train_accuracy', 'learning_rate', 'wall_seconds'] as const;

/** Any object: a plain row, an engine EpochMetrics or BatchEvent. Only the listed columns are read. */
export type MetricRow = object;

/** train_loss → trainLoss, so rows straight from the engine's EpochMetrics/BatchEvent work too. */
function camelCase(column: string): string {
  return column.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

/**
 * A CSV of `rows` with the given columns (default: the per-epoch columns). A cell is looked up by its
 * column name, then by its camelCase form (`train_loss`, then `trainLoss`); keys not in `columns`
 * are left out.
 */
export function metricsCsv(rows: ReadonlyArray<MetricRow>, columns: readonly string[] = EPOCH_METRIC_COLUMNS): string {
  if (columns.length === 0) throw new Error('metricsCsv: at least one column is needed');
  const lines = [columns.map((c) => csvCell(c)).join(',')];
  const keys = columns.map((c) => [c, camelCase(c)] as const);
  for (const row of rows as ReadonlyArray<Record<string, unknown>>) {
    lines.push(keys.map(([snake, camel]) => csvCell(snake in row ? row[snake] : row[camel], snake)).join(','));
  }
  return lines.join('\n') + '\n';
}

/** The per-N-batch series: step, epoch, batch, train_loss, train_accuracy, learning_rate, wall_seconds.
 *  Engine BatchEvents ({ step, epoch, batch, loss, accuracy, learningRate }) are accepted as they are. */
export function batchMetricsCsv(rows: ReadonlyArray<MetricRow>, columns: readonly string[] = BATCH_METRIC_COLUMNS): string {
  const renamed = (rows as ReadonlyArray<Record<string, unknown>>).map((r) => ({ train_loss: r.loss, train_accuracy: r.accuracy, ...r }));
  return metricsCsv(renamed, columns);
}
