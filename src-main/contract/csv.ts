/**
 * CSV, said once for every table the studio writes (metrics exports, the runs table, comparisons):
 * RFC 4180 quoting, "\n" line ends, a header row first. A missing or null value is an empty cell;
 * numbers are written in JavaScript's shortest round-trip form, so reading the file back gives the
 * exact stored float64. Pure: the renderer builds its table downloads with it too.
 */

export function csvCell(value: unknown, column = 'value'): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new TypeError(`CSV column ${column}: expected a number, string or null, got ${JSON.stringify(value)}`);
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A header row and one row per entry, each cell through csvCell. */
export function csvTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((row) => row.map((v, j) => csvCell(v, header[j] ?? String(j))).join(',')).join('\n') + '\n';
}
