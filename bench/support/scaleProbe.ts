/**
 * One row of bench/scale.bench.ts, in a fresh process: `node --import tsx --expose-gc bench/support/scaleProbe.ts
 * <modules> <total bytes>`. It starts a module host with that many modules (one child process, a TCP port each),
 * warms the code paths up on the first module, then opens a `Modem` and a TLS socket per module all at once, sends
 * and then receives `total` bytes shared out evenly (every socket at the same time), and leaves every socket
 * blocked in `recv` for two seconds. Prints one JSON line ({@link ScaleFigure}).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Socket } from '../../src/ussl/Socket.js';
import { cpu, cpuSince, KiB, MiB, Modem, openModem, openTlsSocket, recvExactly, startHost, timedDown, timedUp } from './harness.js';

export interface ScalePhase {
  readonly ms: number;
  /** Host CPU, user + system, milliseconds. */
  readonly cpu: number;
  /** Event-loop delay p99 past the 1 ms sampling interval, milliseconds (NaN when not watched). */
  readonly p99: number;
}

export interface ScaleFigure {
  readonly modules: number;
  readonly each: number;
  readonly open: ScalePhase;
  readonly up: ScalePhase;
  readonly down: ScalePhase;
  /** Every socket blocked in recv for `idle.ms` with nothing arriving, loop delay not watched (it would cost CPU). */
  readonly idle: ScalePhase;
  readonly idleLoop: ScalePhase;
  /** Growth per module once all are open (after a GC), KiB. */
  readonly rssPerModule: number;
  readonly heapPerModule: number;
  readonly childRssMiB: number;
}

const IDLE_MS = 2000;
const RESOLUTION_MS = 1;

async function phase(work: () => Promise<unknown>, watchLoop = true): Promise<ScalePhase> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  if (watchLoop) h.enable();
  const c0 = cpu();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const c = cpuSince(c0);
  h.disable();
  return { ms, cpu: c.user + c.system, p99: watchLoop ? Math.max(0, h.percentile(99) / 1e6 - RESOLUTION_MS) : Number.NaN };
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

const n = Number(process.argv[2]);
const total = Number(process.argv[3]);
const host = await startHost({ count: n + 1 });
const modems: Modem[] = [];
const socks: Socket[] = [];
try {
  // Warm-up on a module of its own (the last one), closed again before anything is measured.
  const warm = await openModem(host.urls[n]!);
  const ws = await openTlsSocket(warm);
  await timedUp(ws, MiB);
  await timedDown(ws, MiB);
  await ws.close();
  await warm.close();

  gc();
  const mem0 = process.memoryUsage();
  const open = await phase(async () => {
    modems.push(...await Promise.all(host.urls.slice(0, n).map((u) => Modem.open(u))));
    socks.push(...await Promise.all(modems.map((m) => openTlsSocket(m))));
  });
  gc();
  const mem1 = process.memoryUsage();
  const each = Math.max(KiB, Math.floor(total / n / KiB) * KiB);
  const data = Buffer.alloc(each, 0x61);
  const up = await phase(() => Promise.all(socks.map(async (s) => {
    await s.send(`UP ${each}\n`);
    await s.send(data);
    await recvExactly(s, 3);
  })));
  const down = await phase(() => Promise.all(socks.map(async (s) => {
    await s.send(`DOWN ${each}\n`);
    await recvExactly(s, each);
  })));
  // Every socket blocked in recv with nothing coming: what idle connections cost (the poll safety net and the like).
  const pending = socks.map((s) => s.recv(1).catch(() => Buffer.alloc(0)));
  const idle = await phase(() => new Promise((r) => setTimeout(r, IDLE_MS)), false);
  const idleLoop = await phase(() => new Promise((r) => setTimeout(r, 1000)));
  const child = await host.usage();
  await Promise.all(socks.map((s) => s.close()));
  await Promise.all(pending);
  const figure: ScaleFigure = {
    modules: n, each, open, up, down, idle, idleLoop,
    rssPerModule: (mem1.rss - mem0.rss) / n / KiB, heapPerModule: (mem1.heapUsed - mem0.heapUsed) / n / KiB, childRssMiB: child.rssMiB,
  };
  console.log(JSON.stringify(figure));
} finally {
  await Promise.all(modems.map((m) => m.close()));
  await host.stop();
}
