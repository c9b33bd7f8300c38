import { describe, expect, test } from 'vitest';
import { gapAt, movedTo, staysPut } from './layer-drag.js';

// three cards 40 px tall with 8 px gaps: tops 0, 48, 96
const cards = [0, 48, 96].map((top) => ({ top, bottom: top + 40 }));

describe('where a drop lands in the stack', () => {
  test('above a card\'s middle is the gap before it; below the last one\'s middle is the end', () => {
    expect(gapAt(-30, cards)).toBe(0);
    expect(gapAt(19, cards)).toBe(0);
    expect(gapAt(21, cards)).toBe(1);
    expect(gapAt(60, cards)).toBe(1);
    expect(gapAt(70, cards)).toBe(2);
    expect(gapAt(117, cards)).toBe(3);
    expect(gapAt(500, cards)).toBe(3);
    expect(gapAt(10, [])).toBe(0);
  });

  test('a card taken out shifts the gaps after it; the two gaps beside it leave it in place', () => {
    expect(movedTo(0, 3)).toBe(2); // the first card dropped after the last: last
    expect(movedTo(2, 0)).toBe(0);
    expect(movedTo(1, 3)).toBe(2);
    expect([0, 1, 2, 3].map((g) => staysPut(1, g))).toEqual([false, true, true, false]);
  });
});
