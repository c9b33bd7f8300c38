/**
 * electron-vite layout of the desktop app: main = src-main/index.ts, preload = src-main/preload.ts,
 * renderer = src-renderer/index.html → out/main, out/preload, out/renderer. The main and preload
 * entries belong to the Electron shell (a later issue); until then build the renderer alone with
 * `npm run build:renderer` (vite.renderer.config.ts).
 */
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';
import { rendererConfig } from './vite.renderer.config.js';

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  main: {
    build: { outDir: at('./out/main'), rolldownOptions: { input: { index: at('./src-main/index.ts') } } },
  },
  preload: {
    build: { outDir: at('./out/preload'), rolldownOptions: { input: { index: at('./src-main/preload.ts') } } },
  },
  renderer: rendererConfig,
});
