/**
 * Dragging in the builder (HTML5 drag and drop): what a drag carries, and where in the stack a drop
 * lands. Positions are gaps: gap i is just before layer i, gap n (the count) after the last one.
 */
import type { LayerType } from './spec-edit.js';

/** A layer card being moved: its index. */
export const LAYER_INDEX_TYPE = 'application/x-cnn-studio-layer-index';
/** A palette entry being inserted: its layer type. */
export const LAYER_TYPE_TYPE = 'application/x-cnn-studio-layer-type';

export type LayerDrag = { kind: 'move'; from: number } | { kind: 'insert'; type: LayerType };

/** The gap a pointer at `y` is nearest to, given the cards' top and bottom edges in stack order. */
export function gapAt(y: number, cards: readonly { top: number; bottom: number }[]): number {
  const i = cards.findIndex((c) => y < (c.top + c.bottom) / 2);
  return i === -1 ? cards.length : i;
}

/** Where a card moved from `from` to gap `gap` ends up (taking it out shifts the gaps after it). */
export const movedTo = (from: number, gap: number): number => (gap > from ? gap - 1 : gap);

/** Whether dropping the card `from` at `gap` would leave it where it is. */
export const staysPut = (from: number, gap: number): boolean => gap === from || gap === from + 1;
