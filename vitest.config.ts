import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Timeouts only catch hangs: CI machines may be busy (the learning test on the reference kernels
    // takes ~35 s idle and several times that with both cores taken), so they are generous.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Two cores: keep at most two test files training at once.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['src-engine/**/*.test.ts', 'src-main/**/*.test.ts', 'tools/**/*.test.ts'] },
      },
      {
        // The renderer's state classes are Svelte 5 runes (.svelte.ts): compiled for the browser
        // (client reactivity, not SSR) and run in Node against a fake client.
        extends: true,
        plugins: [svelte({ configFile: 'src-renderer/svelte.config.js' })],
        resolve: { conditions: ['browser'] },
        test: { name: 'renderer', include: ['src-renderer/**/*.test.ts'], environment: './src-renderer/test/client-environment.ts' },
      },
    ],
  },
});
