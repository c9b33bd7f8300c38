/**
 * electron-vite layout of the desktop app: main = src-main/index.ts, preload = src-main/preload.ts,
 * renderer = src-renderer/index.html → out/main, out/preload, out/renderer. The main and preload
 * entries belong to the Electron shell (a later issue); until then build the renderer alone with
 * `npm run build:renderer` (vite.renderer.config.ts).
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  main: {
    build: { outDir: at('./out/main'), rolldownOptions: { input: { index: at('./src-main/index.ts') } } },
  },
  preload: {
    build: { outDir: at('./out/preload'), rolldownOptions: { input: { index: at('./src-main/preload.ts') } } },
  },
  renderer: {
    root: at('./src-renderer'),
    base: './',
    plugins: [svelte()],
    build: { outDir: at('./out/renderer'), target: 'es2022', rolldownOptions: { input: at('./src-renderer/index.html') } },
  },
});
