/**
 * electron-vite layout of the desktop app: main = src-main/index.ts (the shell) plus the built CLI
 * (cli.js) and web server (web.js), which share its chunks; preload = src-main/preload.ts
 * (CommonJS: sandboxed preloads cannot be ES modules); renderer = src-renderer/index.html →
 * out/main, out/preload, out/renderer. `npm run build` runs it.
 *
 * The one difference between source runs and built runs is made here: every import of
 * src-main/worker-factories/index.ts (tsx bootstraps) becomes src-main/worker-factories/bundle.ts
 * (electron-vite's `?nodeWorker` chunks).
 */
import { defineConfig } from 'electron-vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { rendererConfig } from './vite.renderer.config.js';

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SOURCE_FACTORIES = at('./src-main/worker-factories/index');
const BUNDLE_FACTORIES = at('./src-main/worker-factories/bundle.ts');

function bundledWorkerFactories(): Plugin {
  return {
    name: 'cnn-studio:bundled-worker-factories',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const target = resolve(dirname(importer), source).replace(/\.(js|ts)$/, '');
      return target === SOURCE_FACTORIES ? BUNDLE_FACTORIES : null;
    },
  };
}

export default defineConfig({
  main: {
    plugins: [bundledWorkerFactories()],
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
