import { describe, expect, test } from 'vitest';
import { isTypingTarget, undoCommandOf } from './undo-keys.js';

const el = (tagName: string, type = '') => ({ tagName, type, isContentEditable: false }) as unknown as EventTarget;
const key = (k: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean; alt?: boolean } = {}, target: EventTarget | null = el('BUTTON')) =>
  undoCommandOf({ key: k, ctrlKey: !!mods.ctrl, metaKey: !!mods.meta, shiftKey: !!mods.shift, altKey: !!mods.alt, target });

describe('the builder\'s undo keys', () => {
  test('Ctrl/Cmd+Z undoes; Ctrl/Cmd+Shift+Z and Ctrl+Y redo; other keys are not ours', () => {
    expect(key('z', { ctrl: true })).toBe('undo');
    expect(key('z', { meta: true })).toBe('undo');
    expect(key('Z', { ctrl: true, shift: true })).toBe('redo');
    expect(key('z', { meta: true, shift: true })).toBe('redo');
    expect(key('y', { ctrl: true })).toBe('redo');
    expect(key('z')).toBeNull();
    expect(key('z', { ctrl: true, alt: true })).toBeNull();
    expect(key('x', { ctrl: true })).toBeNull();
  });

  test('in a field one types into the browser\'s own undo applies; on a select, a checkbox or a button ours does', () => {
    for (const target of [el('INPUT', 'number'), el('INPUT', 'text'), el('TEXTAREA')]) {
      expect(isTypingTarget(target)).toBe(true);
      expect(key('z', { ctrl: true }, target)).toBeNull();
    }
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: true } as unknown as EventTarget)).toBe(true);
    for (const target of [el('SELECT'), el('INPUT', 'checkbox'), el('BUTTON'), null]) expect(key('z', { ctrl: true }, target)).toBe('undo');
  });
});
