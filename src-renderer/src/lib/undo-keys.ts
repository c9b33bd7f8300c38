/**
 * The builder's undo and redo keys: Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z and Ctrl+Y redo — except
 * while the focus is in a field one types into, where the browser's own undo of that field's text
 * applies (its edits reach the builder as ordinary edits, so nothing is lost either way).
 */
const TYPED_INPUTS = new Set(['text', 'number', 'search', 'email', 'url', 'tel', 'password']);

/** Whether `target` is a field whose text the browser's own undo edits. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  if (el.isContentEditable || el.tagName === 'TEXTAREA') return true;
  return el.tagName === 'INPUT' && TYPED_INPUTS.has((el as HTMLInputElement).type);
}

export type UndoCommand = 'undo' | 'redo';

/** The command a key press asks the builder for, or null (not ours, or the browser's own field undo). */
export function undoCommandOf(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey' | 'target'>): UndoCommand | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || isTypingTarget(e.target)) return null;
  const key = e.key.toLowerCase();
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && e.ctrlKey && !e.shiftKey) return 'redo';
  return null;
}
