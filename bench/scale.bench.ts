/**
 * Many modules driven at once from one process: for 1, 32 and 128 virtual modules (BENCH_SCALE_COUNTS), each its own
 * `Modem` and one TLS socket through `usocket`/`ussl`, all the modules and the TLS peer in one child process (a TCP
 * port per module, as ser2net serves a rack), so the CPU and memory measured are the host's. Each row runs in a
 * fresh process (bench/support/scaleProbe.ts).
 *
 * Per row: the opens (all at once), then the same total (BENCH_SCALE_TOTAL, default 8 MiB) sent and then received,
 * shared out evenly and moved by every socket at the same time, then two seconds with every socket blocked in `recv`
 * and nothing arriving. The 1-module row is the baseline for the others.
 *
 * Printed: aggregate MiB/s each way; host CPU per module to open, per MiB moved, and per idle second; host RSS and heap growth per
 * module once all are open; and how late the host's event loop ran (p99 of perf_hooks.monitorEventLoopDelay, past
 * its own 1 ms sampling interval) in each phase.
 */
import { describe } from 'vitest';
import { benchOnce } from './support/benchOnce.js';
import { envBytes, MiB, runProbe, seconds, size } from './support/harness.js';
import type { ScaleFigure, ScalePhase } from './support/scaleProbe.js';

const COUNTS = (process.env.BENCH_SCALE_COUNTS ?? '1,32,128').split(',').map(Number);
const TOTAL = envBytes('BENCH_SCALE_TOTAL', 8 * MiB);

function row(f: ScaleFigure): string {
  const moved = (f.each * f.modules) / MiB;
  const rate = (p: ScalePhase): string => (moved / (p.ms / 1000)).toFixed(2);
  const perMiB = (p: ScalePhase): string => (p.cpu / moved).toFixed(0);
  return `| ${f.modules} | ${size(f.each)} | ${seconds(f.open.ms)}, ${(f.open.cpu / f.modules).toFixed(0)} ms | ${rate(f.up)} | ${rate(f.down)} | ` +
    `${perMiB(f.up)} / ${perMiB(f.down)} ms | ${(f.idle.cpu / (f.idle.ms / 1000)).toFixed(1)} ms | ` +
    `${f.rssPerModule.toFixed(0)} KiB / ${f.heapPerModule.toFixed(0)} KiB | ` +
    `${f.open.p99.toFixed(1)} / ${f.up.p99.toFixed(1)} / ${f.down.p99.toFixed(1)} / ${f.idleLoop.p99.toFixed(1)} ms | ${f.childRssMiB.toFixed(0)} MiB |`;
}

describe('many modules from one process', () => {
  benchOnce(`${COUNTS.join(', ')} modules at once`, async () => {
    const out = [
      `modules driven at once from one process, each its own Modem and TLS socket (usocket/ussl), the modules in one child process; ${size(TOTAL)} each way in all`,
      '| modules | each way per module | open: wall, host CPU per module | send MiB/s (all) | receive MiB/s (all) | host CPU per MiB moved: send / receive | host CPU per idle second, all modules (every socket blocked in recv) | host RSS / heap per module | host loop delay p99: open / send / receive / idle | module host RSS |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const n of COUNTS) out.push(row(await runProbe<ScaleFigure>('scaleProbe.ts', [String(n), String(TOTAL)])));
    return out;
  });
});
