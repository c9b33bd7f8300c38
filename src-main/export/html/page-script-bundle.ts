/** The exported page's script in the built app: bundled at build time (electron.vite.config.ts). */
import script from 'virtual:cnn-studio/share-page-script';

export function sharePageScript(): string {
  return script;
}
