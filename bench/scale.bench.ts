/**
 * Many modules driven at once from one process: for 1, 32 and 128 virtual modules (BENCH_SCALE_COUNTS), each its own
 * `Modem` and one TLS socket through `usocket`/`ussl`, all the modules and the TLS peer in one child process (a TCP
 * port per module, as ser2net serves a rack), so the CPU and memory measured here are the host's.
 *
 * Per row: the opens (all at once), then the same total (BENCH_SCALE_TOTAL, default 8 MiB) sent and then received,
 * shared out evenly and moved by every socket at the same time, then two seconds with every socket blocked in `recv`
 * and nothing arriving. The 1-module row is the baseline for the others.
 *
 * Printed: aggregate MiB/s each way; host CPU per module (open, transfer, idle); host RSS and heap growth per module
 * once all are open; and how late the host's event loop ran (p99 of perf_hooks.monitorEventLoopDelay, past its own
 * 1 ms sampling interval) in each phase.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe } from 'vitest';
import type { Socket } from '../src/ussl/Socket.js';
import {
  benchOnce, cpu, cpuSince, envBytes, KiB, MiB, Modem, openTlsSocket, recvExactly, seconds, size, startHost,
} from './support/harness.js';

const COUNTS = (process.env.BENCH_SCALE_COUNTS ?? '1,32,128').split(',').map(Number);
const TOTAL = envBytes('BENCH_SCALE_TOTAL', 8 * MiB);
const IDLE_MS = 2000;
const RESOLUTION_MS = 1;

interface Phase { ms: number; cpu: number; p99: number }

/** Runs `work`, with its wall time, host CPU and event-loop delay p99 (beyond the sampling interval). */
async function phase(work: () => Promise<void>, watchLoop = true): Promise<Phase> {
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

async function row(n: number): Promise<string> {
  const host = await startHost({ count: n });
  const modems: Modem[] = [];
  const socks: Socket[] = [];
  try {
    gc();
    const mem0 = process.memoryUsage();
    const open = await phase(async () => {
      modems.push(...await Promise.all(host.urls.map((u) => Modem.open(u))));
      socks.push(...await Promise.all(modems.map((m) => openTlsSocket(m))));
    });
    gc();
    const mem1 = process.memoryUsage();
    const rssPer = (mem1.rss - mem0.rss) / n / KiB;
    const heapPer = (mem1.heapUsed - mem0.heapUsed) / n / KiB;
    const each = Math.max(KiB, Math.floor(TOTAL / n / KiB) * KiB);
    const data = Buffer.alloc(each, 0x61);
    const up = await phase(() => Promise.all(socks.map(async (s) => {
      await s.send(`UP ${each}\n`);
      await s.send(data);
      await recvExactly(s, 3);
    })).then(() => undefined));
    const down = await phase(() => Promise.all(socks.map(async (s) => {
      await s.send(`DOWN ${each}\n`);
      await recvExactly(s, each);
    })).then(() => undefined));
    // Every socket blocked in recv with nothing coming: what idle connections cost (the poll safety net and the like).
    const pending = socks.map((s) => s.recv(1).catch(() => Buffer.alloc(0)));
    const idle = await phase(() => new Promise((r) => setTimeout(r, IDLE_MS)), false);
    const idleLoop = await phase(() => new Promise((r) => setTimeout(r, 1000)));
    const child = await host.usage();
    await Promise.all(socks.map((s) => s.close()));
    await Promise.all(pending);
    const rate = (p: Phase): string => ((each * n) / MiB / (p.ms / 1000)).toFixed(2);
    const perMiB = (p: Phase): string => (p.cpu / ((each * n) / MiB)).toFixed(0);
    return `| ${n} | ${size(each)} | ${seconds(open.ms)}, ${(open.cpu / n).toFixed(0)} ms | ${rate(up)} | ${rate(down)} | ` +
      `${perMiB(up)} / ${perMiB(down)} | ${(idle.cpu / n / (IDLE_MS / 1000)).toFixed(2)} ms | ${rssPer.toFixed(0)} KiB / ${heapPer.toFixed(0)} KiB | ` +
      `${open.p99.toFixed(1)} / ${up.p99.toFixed(1)} / ${down.p99.toFixed(1)} / ${idleLoop.p99.toFixed(1)} ms | ${child.rssMiB.toFixed(0)} MiB |`;
  } finally {
    await Promise.all(modems.map((m) => m.close()));
    await host.stop();
  }
}

describe('many modules from one process', () => {
  benchOnce(`${COUNTS.join(', ')} modules at once`, async () => {
    const out = [
      `modules driven at once from this process, each its own Modem and TLS socket (usocket/ussl); the modules in one child process; ${size(TOTAL)} each way in all`,
      '| modules | each way per module | open: wall, host CPU per module | send MiB/s (all) | receive MiB/s (all) | host CPU per MiB moved: send / receive | host CPU per module per idle second (all blocked in recv) | host RSS / heap per module | host loop delay p99: open / send / receive / idle | module host RSS |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    await row(1); // a warm-up, not printed: the first pass through a code path runs before the JIT compiled it
    for (const n of COUNTS) out.push(await row(n));
    return out;
  });
});
