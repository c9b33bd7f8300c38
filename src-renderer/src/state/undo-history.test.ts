import { describe, expect, test } from 'vitest';
import { UndoHistory } from './undo-history.svelte.js';

describe('undo history', () => {
  test('undo hands back what was recorded and keeps the current state for redo', () => {
    const h = new UndoHistory<string>();
    expect(h.undo('a')).toBeNull();
    h.record('a');
    h.record('b'); // now at c
    expect(h.undo('c')).toBe('b');
    expect(h.undo('b')).toBe('a');
    expect(h.canUndo).toBe(false);
    expect(h.redo('a')).toBe('b');
    expect(h.redo('b')).toBe('c');
    expect(h.canRedo).toBe(false);
  });

  test('a new edit drops the redo side; edits of one run coalesce until settled; the oldest go past the limit', () => {
    const h = new UndoHistory<number>(3);
    h.record(0, 'f');
    h.record(1, 'f');
    h.record(2, 'f'); // one run: one step, its first state
    expect(h.nextUndo).toBe(0);
    h.settle();
    h.record(3, 'f');
    expect(h.undo(4)).toBe(3);
    h.record(3);
    expect(h.canRedo).toBe(false);
    for (const n of [5, 6, 7]) h.record(n);
    expect([h.undo(8), h.undo(7), h.undo(6), h.undo(5)]).toEqual([7, 6, 5, null]);
  });
});
