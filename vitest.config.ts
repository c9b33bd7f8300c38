import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src-engine/**/*.test.ts', 'src-main/**/*.test.ts', 'tools/**/*.test.ts'],
    // Timeouts only catch hangs: CI machines may be busy (the learning test on the reference kernels
    // takes ~35 s idle and several times that with both cores taken), so they are generous.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Two cores: keep at most two test files training at once.
    maxWorkers: 2,
  },
});
