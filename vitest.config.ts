import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src-engine/**/*.test.ts', 'src-main/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep at most two test files training at once.
    maxWorkers: 2,
  },
});
