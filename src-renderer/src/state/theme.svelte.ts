/**
 * Light or dark: the system's choice (prefers-color-scheme, which the desktop app's View › Theme
 * also sets) unless the user picked one here, kept across starts. The page's colours are CSS
 * variables switched by `data-theme` on the root element (app.css).
 */
export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

const KEY = 'cnn-studio-theme';

/** What the theme needs of the page: where it is kept, the system's preference, and the root to mark. */
export interface ThemeEnvironment {
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  media: Pick<MediaQueryList, 'matches' | 'addEventListener'> | null;
  apply: (theme: 'light' | 'dark') => void;
}

function pageEnvironment(storage: ThemeEnvironment['storage']): ThemeEnvironment {
  const hasWindow = typeof window !== 'undefined' && typeof window.matchMedia === 'function';
  return {
    storage,
    media: hasWindow ? window.matchMedia('(prefers-color-scheme: dark)') : null,
    apply: (theme) => {
      if (typeof document === 'undefined') return;
      document.documentElement.dataset.theme = theme;
      document.documentElement.style.colorScheme = theme;
    },
  };
}

export class ThemeState {
  choice = $state<ThemeChoice>('system');
  system = $state<'light' | 'dark'>('light');
  readonly resolved = $derived<'light' | 'dark'>(this.choice === 'system' ? this.system : this.choice);
  private readonly env: ThemeEnvironment;

  constructor(storage: ThemeEnvironment['storage'], env: ThemeEnvironment = pageEnvironment(storage)) {
    this.env = env;
    const saved = env.storage?.getItem(KEY);
    if (saved && (THEME_CHOICES as readonly string[]).includes(saved)) this.choice = saved as ThemeChoice;
    this.system = env.media?.matches ? 'dark' : 'light';
    env.media?.addEventListener('change', (e) => {
      this.system = e.matches ? 'dark' : 'light';
      this.env.apply(this.resolved);
    });
    env.apply(this.resolved);
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    this.env.storage?.setItem(KEY, choice);
    this.env.apply(this.resolved);
  }
}
