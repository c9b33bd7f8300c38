import { describe, expect, test } from 'vitest';
import { ThemeState, type ThemeEnvironment } from './theme.svelte.js';

function page(systemDark: boolean, saved: string | null = null) {
  const stored = new Map<string, string>(saved ? [['cnn-studio-theme', saved]] : []);
  const applied: string[] = [];
  let onChange: ((e: { matches: boolean }) => void) | null = null;
  const env: ThemeEnvironment = {
    storage: { getItem: (k) => stored.get(k) ?? null, setItem: (k, v) => void stored.set(k, v) },
    media: { matches: systemDark, addEventListener: ((_: string, l: (e: { matches: boolean }) => void) => (onChange = l)) as never },
    apply: (t) => void applied.push(t),
  };
  return { env, stored, applied, systemChanges: (dark: boolean) => onChange!({ matches: dark }) };
}

describe('theme', () => {
  test('follows the system until one is chosen, and changes with it', () => {
    const p = page(true);
    const theme = new ThemeState(p.env.storage, p.env);
    expect(theme.choice).toBe('system');
    expect(p.applied).toEqual(['dark']);
    p.systemChanges(false);
    expect(theme.resolved).toBe('light');
    expect(p.applied).toEqual(['dark', 'light']);
  });

  test('a chosen theme is applied, kept, and wins over the system', () => {
    const p = page(false);
    const theme = new ThemeState(p.env.storage, p.env);
    theme.set('dark');
    expect(p.applied.at(-1)).toBe('dark');
    expect(p.stored.get('cnn-studio-theme')).toBe('dark');
    p.systemChanges(false);
    expect(p.applied.at(-1)).toBe('dark');
    const again = page(false, 'dark');
    new ThemeState(again.env.storage, again.env);
    expect(again.applied).toEqual(['dark']);
  });
});
