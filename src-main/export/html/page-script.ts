/**
 * The exported page's script in a checkout (tests, tsx scripts, `npm run web`, the CLI from source):
 * ./page/main.ts and the engine code it imports, bundled with esbuild the first time a page is
 * exported. The built app imports the same bundle made at build time (./page-script-bundle.ts;
 * electron.vite.config.ts swaps the two modules), so the rest of the code cannot tell them apart.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { SHARE_PAGE_BUILD } from './page-build.js';

let script: string | null = null;

export function sharePageScript(): string {
  script ??= buildSync({ ...SHARE_PAGE_BUILD, entryPoints: [fileURLToPath(new URL('./page/main.ts', import.meta.url))] }).outputFiles[0]!.text;
  return script;
}
