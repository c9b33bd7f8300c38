/**
 * electron-vite layout of the desktop app: main = src-main/index.ts (the shell) plus the built CLI
 * (cli.js) and web server (web.js), which share its chunks; preload = src-main/preload.ts
 * (CommonJS: sandboxed preloads cannot be ES modules); renderer = src-renderer/index.html →
 * out/main, out/preload, out/renderer. `npm run build` runs it.
 *
 * The one difference between source runs and built runs is made here: every import of
 * src-main/worker-factories/index.ts (tsx bootstraps) becomes src-main/worker-factories/bundle.ts
 * (electron-vite's `?nodeWorker` chunks), and every import of src-main/export/html/page-script.ts
 * (esbuild at first use) becomes page-script-bundle.ts, whose script this config bundles once.
 */
import { defineConfig } from 'electron-vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'vite';
import { SHARE_PAGE_BUILD, SHARE_PAGE_MODULE } from './src-main/export/html/page-build.js';
import { rendererConfig } from './vite.renderer.config.js';

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));
/** Source module (without its extension) → the module the built app uses instead. */
const BUNDLE_SWAPS = new Map([
  [at('./src-main/worker-factories/index'), at('./src-main/worker-factories/bundle.ts')],
  [at('./src-main/export/html/page-script'), at('./src-main/export/html/page-script-bundle.ts')],
]);

function bundledModules(): Plugin {
  return {
    name: 'cnn-studio:bundled-modules',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      return BUNDLE_SWAPS.get(resolve(dirname(importer), source).replace(/\.(js|ts)$/, '')) ?? null;
    },
  };
}

/** The exported page's script, bundled from src-main/export/html/page/main.ts as a string module. */
function sharePageScript(): Plugin {
  const id = `\0${SHARE_PAGE_MODULE}`;
  return {
    name: 'cnn-studio:share-page-script',
    resolveId: (source) => (source === SHARE_PAGE_MODULE ? id : null),
    async load(loading) {
      if (loading !== id) return null;
      const r = await build({ ...SHARE_PAGE_BUILD, entryPoints: [at('./src-main/export/html/page/main.ts')], metafile: true });
      for (const input of Object.keys(r.metafile.inputs)) this.addWatchFile(resolve(input));
      return `export default ${JSON.stringify(r.outputFiles[0]!.text)};`;
    },
  };
}

export default defineConfig({
  main: {
    plugins: [bundledModules(), sharePageScript()],
    build: {
      outDir: at('./out/main'),
      sourcemap: true,
      rolldownOptions: {
        input: { index: at('./src-main/index.ts'), cli: at('./src-main/cli/main.ts'), web: at('./src-main/web/main.ts') },
        // every chunk beside the entries, so import.meta.url-relative paths (../renderer) hold for all of them
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: at('./out/preload'),
      rolldownOptions: { input: { index: at('./src-main/preload.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: rendererConfig,
});
