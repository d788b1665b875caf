import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // serialport's native binding crashes inside worker threads: forks only.
    pool: 'forks',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'hil/**/*.test.ts'],
    // Builds dist/ when the sources are newer, for the tests that run the built package.
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
