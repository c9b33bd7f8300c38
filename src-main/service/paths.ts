/**
 * The per-user data folder, the same one Electron's app.getPath('userData') gives an app named
 * cnn-studio, so the CLI and the desktop app share one library by default.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'cnn-studio';
export const DATABASE_FILE = 'studio.sqlite';

export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_NAME);
}

export function defaultDatabasePath(): string {
  return join(userDataDir(), DATABASE_FILE);
}
