/**
 * The virtual module's serial line against the ideal, bytes × 10 / baud (8N1). Both directions of a VirtualModule
 * are a Pacer each (host → module and module → host), so this drives Pacers directly, on the clock the module uses:
 *
 *   bursts   1–184 bytes pushed to an idle line, each timed from the push to the delivery of its last byte; the
 *            baseline, measured in the same run, is the same Pacer on whole-millisecond timers (the line as it was
 *            before the precision clock), and the floor is an unpaced Pacer (one event-loop turn, no line at all)
 *   streams  4 KiB to 1 MiB each way at the same time, fed as a UART driver would (refilled to 64 KiB queued on
 *            every delivery, so a pause of the process shorter than that much line time does not leave the line
 *            idle), each direction timed from the first push to its last byte
 *   CPU      process CPU time per second of line time, for bursts and streams, and over a second of idle line
 *
 * `npm run bench` prints the tables. BENCH_LINE_MAX (bytes) caps the stream size (1 MiB at 115200 baud takes 91 s);
 * BENCH_LINE_BAUDS (comma-separated) picks the speeds.
 */
import { bench, describe } from 'vitest';
import { precisionClock, type LineClock } from '../src/emulator/LineClock.js';
import { Pacer } from '../src/emulator/Pacer.js';

const KiB = 1024;
const MAX = Number(process.env.BENCH_LINE_MAX ?? 1024 * KiB);
const BAUDS = (process.env.BENCH_LINE_BAUDS ?? '115200,921600').split(',').map(Number);
const BURSTS = [1, 2, 4, 8, 16, 32, 64, 128, 184];
const STREAMS = [4 * KiB, 64 * KiB, 1024 * KiB].filter((s) => s <= MAX);
const REPEATS = 40;
const REFILL = 64 * KiB;

/** The line as it was: every wake a `setTimeout`, which rounds anything under a millisecond up to one. */
const timerClock: LineClock = {
  now: () => performance.now(),
  wakeAt(at, _precise, fn) {
    const timer = setTimeout(fn, Math.max(0, at - performance.now()));
    return () => clearTimeout(timer);
  },
};

const ideal = (bytes: number, baud: number): number => (bytes * 10_000) / baud;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

/** Milliseconds from pushing `bytes` to an idle line until its last byte is delivered, `REPEATS` times. */
async function burstTimes(bytes: number, baud: number | undefined, clock: LineClock): Promise<number[]> {
  const times: number[] = [];
  const data = Buffer.alloc(bytes, 0x41);
  for (let i = 0; i < REPEATS; i++) {
    // An idle line, pushed at a random phase of the millisecond timers.
    await sleep(1 + Math.random());
    await new Promise<void>((resolve) => {
      let got = 0;
      let t0 = 0;
      const pacer = new Pacer((chunk) => {
        got += chunk.length;
        if (got === bytes) {
          times.push(performance.now() - t0);
          resolve();
        }
      }, { baud, clock });
      t0 = performance.now();
      pacer.push(data);
    });
  }
  return times;
}

async function burstTable(baud: number): Promise<string> {
  const rows = [
    `bursts on an idle line at ${baud} baud (median of ${REPEATS}; p90 in brackets)`,
    '| bytes | ideal | measured | ratio | timers only (before) | ratio | unpaced floor |',
    '|---|---|---|---|---|---|---|',
  ];
  const cpu = { precise: 0, timers: 0, floor: 0 };
  const timed = async (which: keyof typeof cpu, run: () => Promise<number[]>): Promise<number[]> => {
    const c0 = cpuMs();
    const times = await run();
    cpu[which] += cpuMs() - c0;
    return times;
  };
  for (const bytes of BURSTS) {
    const want = ideal(bytes, baud);
    const precise = await timed('precise', () => burstTimes(bytes, baud, precisionClock));
    const timers = await timed('timers', () => burstTimes(bytes, baud, timerClock));
    const floor = await timed('floor', () => burstTimes(bytes, undefined, precisionClock));
    rows.push(`| ${bytes} | ${fmt(want)} | ${fmt(median(precise))} (${fmt(p90(precise))}) | ${(median(precise) / want).toFixed(3)} | ` +
      `${fmt(median(timers))} | ${(median(timers) / want).toFixed(2)} | ${fmt(median(floor))} |`);
  }
  const perBurst = (ms: number): string => `${((ms / (BURSTS.length * REPEATS)) * 1000).toFixed(0)} µs`;
  rows.push(`CPU per burst (the idle millisecond before each included): precise ${perBurst(cpu.precise)}, ` +
    `timers only ${perBurst(cpu.timers)}, unpaced ${perBurst(cpu.floor)}; the difference is the precise wake's polling`);
  return rows.join('\n');
}

/** Feeds one direction as a UART driver would: keeps up to REFILL bytes queued, topping up on every delivery. */
function stream(size: number, baud: number): { done: Promise<number> } {
  let pushed = 0;
  let got = 0;
  let t0 = 0;
  let finish!: (ms: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const piece = Buffer.alloc(1024, 0x55);
  const refill = (): void => {
    while (pushed < size && pacer.pending < REFILL) {
      const n = Math.min(piece.length, size - pushed);
      pacer.push(piece.subarray(0, n));
      pushed += n;
    }
  };
  const pacer = new Pacer((chunk) => {
    got += chunk.length;
    if (got === size) finish(performance.now() - t0);
    else refill();
  }, { baud, clock: precisionClock });
  t0 = performance.now();
  refill();
  return { done };
}

async function streamTable(baud: number): Promise<string> {
  const rows = [
    `streams at ${baud} baud, both directions at the same time`,
    '| size | ideal | host → module | ratio | module → host | ratio | CPU per second of line time |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const size of STREAMS) {
    await sleep(5);
    const c0 = cpuMs();
    const [up, down] = await Promise.all([stream(size, baud).done, stream(size, baud).done]);
    const cpu = cpuMs() - c0;
    const want = ideal(size, baud);
    rows.push(`| ${size / KiB} KiB | ${fmt(want)} | ${fmt(up)} | ${(up / want).toFixed(4)} | ${fmt(down)} | ${(down / want).toFixed(4)} | ` +
      `${(cpu / (Math.max(up, down) / 1000)).toFixed(0)} ms |`);
  }
  return rows.join('\n');
}

async function idleCpu(): Promise<string> {
  // Two pacers that have carried traffic and now sit idle, as a module's line does between commands.
  const pacers = [new Pacer(() => {}, { baud: 921_600 }), new Pacer(() => {}, { baud: 921_600 })];
  for (const p of pacers) p.push(Buffer.alloc(100));
  await sleep(10);
  const c0 = cpuMs();
  const t0 = performance.now();
  await sleep(1000);
  return `idle line: ${(cpuMs() - c0).toFixed(1)} ms CPU over ${(performance.now() - t0).toFixed(0)} ms (the process, including the benchmark runner)`;
}

describe('the virtual module\'s line against bytes × 10 / baud', () => {
  let printed = false; // the runner may call a bench more than once; the tables are measured and printed once
  bench('bursts, streams, CPU', async () => {
    if (printed) return;
    printed = true;
    // Warm-up, discarded: the first bursts of a process run cold code (tens of µs slower), which is not the line.
    for (const baud of [...BAUDS, undefined]) for (const bytes of [1, 64]) await burstTimes(bytes, baud, precisionClock);
    // Printed at the end: the runner ships console output to its parent process, which would be measured too.
    const tables: string[] = [];
    for (const baud of BAUDS) tables.push(await burstTable(baud));
    for (const baud of BAUDS) tables.push(await streamTable(baud));
    tables.push(await idleCpu());
    console.log(`\n${tables.join('\n\n')}\n`);
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
});
