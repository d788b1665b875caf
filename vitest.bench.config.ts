import { defineConfig } from 'vitest/config';

/** Benchmarks: `npm run bench`. Not part of `npm test`; they print figures, they do not pass or fail on speed. */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    pool: 'forks',
    testTimeout: 300_000,
  },
});
