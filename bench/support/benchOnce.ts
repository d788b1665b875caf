/** The one-shot bench every file in bench/ uses: these benches measure and print their own figures. */
import { loadavg } from 'node:os';
import { bench } from 'vitest';

/**
 * A bench that runs `measure` once and prints what it returns: these benches measure their own figures (the runner
 * may call a bench function more than once; only the first call measures).
 */
export function benchOnce(name: string, measure: () => Promise<string[]>): void {
  let done = false;
  bench(name, async () => {
    if (done) return;
    done = true;
    const t0 = performance.now();
    const load0 = loadavg()[0]!;
    const lines = await measure();
    // The machine's load says how far to trust the figures: other work shares the cores.
    console.log(`\n${lines.join('\n')}\n(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s in all; load average ${load0.toFixed(1)} at the start, ` +
      `${loadavg()[0]!.toFixed(1)} at the end)\n`);
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
}
