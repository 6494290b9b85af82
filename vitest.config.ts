import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One log folder for the suite; at the end, every log line is grepped for every secret used.
    globalSetup: ['tests/helpers/log-check.ts'],
  },
});
