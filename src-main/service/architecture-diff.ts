/**
 * Layer stacks aligned by sequence, as a diff tool aligns lines: a dropout inserted into one stack
 * shows as one inserted row and the layers after it line up again, instead of every later layer
 * reading "dropout vs dense". Each run is aligned against the first (a global alignment that
 * maximises matches: identical layers score 2, layers of the same type 1 — a changed layer — and
 * layers of different types never pair), then the pairwise alignments are merged into rows.
 */
import type { ArchitectureRow, LayerChange } from '../contract/index.js';

export interface StackLayer {
  type: string;
  /** The layer's words as the tables show them (description, output shape, parameters). */
  text: string;
}

type Pair = { a: number | null; b: number | null };

/** Needleman–Wunsch with free gaps: the pairs (index in a, index in b) in order, null for a gap. */
export function alignStacks(a: readonly StackLayer[], b: readonly StackLayer[]): Pair[] {
  const score = (x: StackLayer, y: StackLayer) => (x.text === y.text ? 2 : x.type === y.type ? 1 : -Infinity);
  const n = a.length;
  const m = b.length;
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      best[i]![j] = Math.max(best[i + 1]![j]!, best[i]![j + 1]!, score(a[i]!, b[j]!) + best[i + 1]![j + 1]!);
    }
  }
  const pairs: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && best[i]![j] === score(a[i]!, b[j]!) + best[i + 1]![j + 1]!) pairs.push({ a: i++, b: j++ });
    // a layer only the other run has is "inserted" there; prefer reporting removals first at a tie
    else if (i < n && (j === m || best[i]![j] === best[i + 1]![j])) pairs.push({ a: i++, b: null });
    else pairs.push({ a: null, b: j++ });
  }
  return pairs;
}

/** Every run's stack against the first's, merged into rows (each run's layers in order, once each). */
export function alignedRows(stacks: readonly (readonly StackLayer[])[]): ArchitectureRow[] {
  const base = stacks[0] ?? [];
  const alignments = stacks.map((s) => alignStacks(base, s));
  const rows: { base: number | null; cells: (number | null)[] }[] = [];
  // Gaps are keyed by the base index they come before (base.length = at the end).
  const inserted = new Map<number, (number | null)[][]>();
  const matched: (number | null)[][] = base.map(() => stacks.map(() => null));
  alignments.forEach((pairs, k) => {
    let gapRow = 0;
    let gapAt = 0;
    for (const p of pairs) {
      if (p.a !== null) {
        gapAt = p.a + 1;
        gapRow = 0;
        matched[p.a]![k] = p.b;
      } else {
        let gap = inserted.get(gapAt);
        if (!gap) inserted.set(gapAt, (gap = []));
        if (!gap[gapRow]) gap[gapRow] = stacks.map(() => null);
        gap[gapRow]![k] = p.b;
        gapRow++;
      }
    }
  });
  for (let i = 0; i <= base.length; i++) {
    for (const cells of inserted.get(i) ?? []) rows.push({ base: null, cells });
    if (i < base.length) rows.push({ base: i, cells: matched[i]! });
  }
  return rows.map((row) => {
    const values = row.cells.map((c, k) => (c === null ? null : stacks[k]![c]!.text));
    const changes: LayerChange[] = row.cells.map((c, k) => {
      if (k === 0) return 'same';
      if (row.base === null) return c === null ? 'same' : 'inserted';
      if (c === null) return 'removed';
      return values[k] === values[0] ? 'same' : 'changed';
    });
    return { positions: row.cells.map((c) => (c === null ? null : c + 1)), values, changes };
  });
}

/** Only the rows where some run differs from the first. */
export const differingRows = (rows: ArchitectureRow[]): ArchitectureRow[] => rows.filter((r) => r.changes.some((c) => c !== 'same'));
