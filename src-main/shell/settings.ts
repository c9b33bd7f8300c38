/**
 * The shell's own settings (shell-settings.json in the data folder): the window's size and position
 * and the theme. Read through the contract's schema language, so a hand-edited or damaged file gives
 * the defaults back instead of a window at NaN×NaN; written atomically.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boolean, integer, object, oneOf, optional, type Infer } from '../contract/schema.js';
import { writeAtomic } from '../export/files.js';

export const SETTINGS_FILE = 'shell-settings.json';
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const coordinate = () => integer({ min: -100_000, max: 100_000 });
const extent = () => integer({ min: 1, max: 100_000 });

const settingsSchema = object({
  window: optional(object({ x: coordinate(), y: coordinate(), width: extent(), height: extent(), maximized: optional(boolean()) })),
  theme: optional(oneOf(THEMES)),
});
export type ShellSettings = Infer<typeof settingsSchema>;
export type SavedWindow = NonNullable<ShellSettings['window']>;

export function readSettings(dataDir: string): ShellSettings {
  try {
    return settingsSchema.parse(JSON.parse(readFileSync(join(dataDir, SETTINGS_FILE), 'utf8')), '');
  } catch {
    return {};
  }
}

export function writeSettings(dataDir: string, settings: ShellSettings): void {
  writeAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
}
