/**
 * Builds only the renderer (Svelte 5 + Chart.js) into out/renderer, which `npm run web` serves:
 *   npx vite build --config vite.renderer.config.ts   (npm run build:renderer)
 * electron.vite.config.ts reuses this for its renderer section.
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';

const rendererRoot = fileURLToPath(new URL('./src-renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./out/renderer', import.meta.url));

export const rendererConfig: UserConfig = {
  root: rendererRoot,
  // Relative asset URLs: the same build loads from http://127.0.0.1 and from file:// in Electron.
  base: './',
  plugins: [svelte()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: fileURLToPath(new URL('./src-renderer/index.html', import.meta.url)),
      // Svelte's compile is most of a build on two shared cores; that is expected, not worth a warning per build.
      checks: { bundlerTimings: false },
    },
  },
};

export default defineConfig(rendererConfig);
