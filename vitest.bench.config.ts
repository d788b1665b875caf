import { defineConfig } from 'vitest/config';

/**
 * Benchmarks: `npm run bench`. Not part of `npm test`; they print figures, they do not pass or fail on speed.
 * One file at a time, so no bench shares the two cores with another; `--expose-gc` so the memory figures start
 * from a collected heap.
 */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--expose-gc'],
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
  },
});
