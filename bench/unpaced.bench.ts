/**
 * Unpaced (no baud rate): how fast the library moves TLS data through the public API when the line is not the
 * limit, and what it costs the host. BENCH_UNPACED_SIZE bytes (default 8 MiB) each way, over:
 *
 *   baseline      raw Node TLS over loopback to the same peer, in the same run
 *   in-process    the virtual module in this process, through the serialport stream stack (EmulatorBinding);
 *                 the CPU figure then counts the module too
 *   child, TCP    the module in a child process served on TCP (`socket://`, as ser2net serves a line): the
 *                 host CPU is the library's (and its system calls)
 *   child, pty    the same over a socat pseudo-terminal pair, opened with serialport's native binding
 *   connectTls    the `Duplex` from `modem.connectTls`, child over TCP, written and read as a stream
 *
 * Each path also gets the median round trip of a bare `AT` through it: buffer mode is one command at a time, so a
 * 1460-byte send costs two round trips (command → `>`, payload → `SEND OK`) and a 1500-byte read one; the rates
 * those round trips alone allow are printed next to them.
 */
import { performance as perf } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { Writable } from 'node:stream';
import { describe } from 'vitest';
import { VirtualModule } from '../src/emulator/index.js';
import type { Socket } from '../src/ussl/Socket.js';
import { benchOnce } from './support/benchOnce.js';
import {
  cpu, cpuSince, envBytes, KiB, MiB, mibps, Modem, openTlsSocket, PEER, size, startHost, timedDown, timedUp,
  type Cpu, type ModuleHost,
} from './support/harness.js';

const BYTES = envBytes('BENCH_UNPACED_SIZE', 8 * MiB);
const RTT_SAMPLES = 300;

interface Figure { mibps: number; host: Cpu; busy: number; child: number }

/** Runs one transfer and measures its rate, host CPU per MiB, host event-loop busy share and child CPU per MiB. */
async function measured(host: ModuleHost, bytes: number, run: () => Promise<number>): Promise<Figure> {
  const h0 = await host.usage();
  const c0 = cpu();
  const e0 = perf.eventLoopUtilization();
  const ms = await run();
  const busy = perf.eventLoopUtilization(e0).utilization;
  const c = cpuSince(c0);
  const h1 = await host.usage();
  const mib = bytes / MiB;
  return { mibps: mibps(bytes, ms), host: { user: c.user / mib, system: c.system / mib }, busy, child: (h1.user + h1.system - h0.user - h0.system) / mib };
}

const cell = (f: Figure): string =>
  `${f.mibps.toFixed(2)} | ${(f.host.user + f.host.system).toFixed(0)} (${f.host.user.toFixed(0)} + ${f.host.system.toFixed(0)}) | ${(f.busy * 100).toFixed(0)} % | ${f.child.toFixed(0)}`;

/** Median round trip of `AT` → `OK`, in milliseconds. */
async function atRoundTrip(modem: Modem): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const t0 = performance.now();
    await modem.send('AT');
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/**
 * A first MiB each way, not counted: the first pass through a code path runs before the JIT has compiled it (the
 * first MiB sent here took three times the CPU of the next ones).
 */
async function warmUp(modem: Modem): Promise<void> {
  for (const receive of ['buffer', 'push', 'transparent'] as const) {
    const sock = await openTlsSocket(modem, receive);
    await timedUp(sock, MiB);
    await timedDown(sock, MiB);
    await sock.close();
  }
}

/** Send, buffer-mode receive and push receive through the socket API on one modem; the AT round trip first. */
async function apiRows(label: string, host: ModuleHost, modem: Modem, out: string[], rtts: string[]): Promise<void> {
  await warmUp(modem);
  const rtt = await atRoundTrip(modem);
  rtts.push(`| ${label} | ${(rtt * 1000).toFixed(0)} µs | ${(1460 / MiB / (2 * rtt / 1000)).toFixed(2)} | ${(1500 / MiB / (rtt / 1000)).toFixed(2)} |`);
  const sock: Socket = await openTlsSocket(modem, 'buffer');
  out.push(`| ${label} | send | ${cell(await measured(host, BYTES, () => timedUp(sock, BYTES)))} |`);
  out.push(`| ${label} | receive, buffer mode | ${cell(await measured(host, BYTES, () => timedDown(sock, BYTES)))} |`);
  await sock.close();
  const push = await openTlsSocket(modem, 'push');
  out.push(`| ${label} | receive, push mode | ${cell(await measured(host, BYTES, () => timedDown(push, BYTES)))} |`);
  await push.close();
  // Transparent mode: the port carries the TLS stream itself (opened and closed outside the timed part: the escape
  // waits out its guard times).
  const raw = await openTlsSocket(modem, 'transparent');
  out.push(`| ${label} | send, transparent mode | ${cell(await measured(host, BYTES, () => timedUp(raw, BYTES)))} |`);
  out.push(`| ${label} | receive, transparent mode | ${cell(await measured(host, BYTES, () => timedDown(raw, BYTES)))} |`);
  await raw.close();
}

/** Raw Node TLS to the same peer: the same requests, no module and no AT. */
async function rawRows(host: ModuleHost, out: string[]): Promise<void> {
  const s = tlsConnect({ host: '127.0.0.1', port: host.peerPort, ca: host.ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
  let got = 0;
  let waiting: { need: number; done: () => void } | undefined;
  s.on('data', (d: Buffer) => {
    got += d.length;
    if (waiting && got >= waiting.need) waiting.done();
  });
  const until = (need: number): Promise<void> => (got >= need ? Promise.resolve() : new Promise((done) => (waiting = { need, done })));
  const piece = Buffer.alloc(64 * KiB, 0x61);
  const up = await measured(host, BYTES, async () => {
    s.write(`UP ${BYTES}\n`);
    const t0 = performance.now();
    for (let off = 0; off < BYTES; off += piece.length) {
      if (!s.write(piece.subarray(0, Math.min(piece.length, BYTES - off)))) await new Promise((r) => s.once('drain', r));
    }
    await until(3);
    return performance.now() - t0;
  });
  got = 0;
  const down = await measured(host, BYTES, async () => {
    const t0 = performance.now();
    s.write(`DOWN ${BYTES}\n`);
    await until(BYTES);
    return performance.now() - t0;
  });
  s.destroy();
  out.push(`| baseline: raw Node TLS, loopback | send | ${cell(up)} |`, `| baseline: raw Node TLS, loopback | receive | ${cell(down)} |`);
}

/** The `connectTls` stream: written with backpressure, read by a sink. */
async function streamRows(host: ModuleHost, modem: Modem, out: string[]): Promise<void> {
  const stream = modem.connectTls({ host: PEER, port: 443 });
  await new Promise<void>((resolve, reject) => stream.once('secureConnect', () => resolve()).once('error', reject));
  let got = 0;
  let waiting: { need: number; done: () => void } | undefined;
  stream.pipe(new Writable({
    write(chunk: Buffer, _enc, next) {
      got += chunk.length;
      if (waiting && got >= waiting.need) waiting.done();
      next();
    },
  }));
  const until = (need: number): Promise<void> => (got >= need ? Promise.resolve() : new Promise((done) => (waiting = { need, done })));
  const piece = Buffer.alloc(64 * KiB, 0x61);
  const up = await measured(host, BYTES, async () => {
    stream.write(`UP ${BYTES}\n`);
    const t0 = performance.now();
    for (let off = 0; off < BYTES; off += piece.length) {
      if (!stream.write(piece.subarray(0, Math.min(piece.length, BYTES - off)))) await new Promise((r) => stream.once('drain', r));
    }
    await until(3);
    return performance.now() - t0;
  });
  got = 0;
  const down = await measured(host, BYTES, async () => {
    const t0 = performance.now();
    stream.write(`DOWN ${BYTES}\n`);
    await until(BYTES);
    return performance.now() - t0;
  });
  stream.destroy();
  out.push(`| connectTls stream, child over TCP | send | ${cell(up)} |`, `| connectTls stream, child over TCP | receive, buffer mode | ${cell(down)} |`);
}

describe('unpaced, through usocket/ussl and connectTls', () => {
  benchOnce('MiB/s each way and host CPU per MiB', async () => {
    const out = [
      `unpaced (no baud), ${size(BYTES)} each way; CPU in ms per MiB moved`,
      '| path | direction | MiB/s | host CPU (user + system) | host loop busy | module host CPU |',
      '|---|---|---|---|---|---|',
    ];
    const rtts = [
      'bare `AT` round trip (median of ' + RTT_SAMPLES + ') and the MiB/s buffer mode\'s round trips alone allow (send: 1460 B per two, receive: 1500 B per one)',
      '| path | round trip | send bound | receive bound |',
      '|---|---|---|---|',
    ];
    const host = await startHost({ count: 1 });
    try {
      await rawRows(host, out);
      const module = new VirtualModule({ model: 'EC25', hosts: { [PEER]: `127.0.0.1:${host.peerPort}` } });
      const local = await Modem.open(module, { dataModeUrcPort: 'usbmodem' });
      try {
        await apiRows('usocket/ussl, module in this process (host CPU counts it)', host, local, out, rtts);
      } finally {
        await local.close();
        module.dispose();
      }
      const remote = await Modem.open(host.urls[0]!, { dataModeUrcPort: 'usbmodem' });
      try {
        await apiRows('usocket/ussl, module in a child over TCP', host, remote, out, rtts);
        await streamRows(host, remote, out);
      } finally {
        await remote.close();
      }
    } finally {
      await host.stop();
    }
    const ptyHost = await startHost({ count: 1, serve: 'pty' });
    try {
      const modem = await Modem.open(ptyHost.urls[0]!, { dataModeUrcPort: 'usbmodem' });
      try {
        await apiRows('usocket/ussl, module in a child over a socat pty', ptyHost, modem, out, rtts);
      } finally {
        await modem.close();
      }
    } finally {
      await ptyHost.stop();
    }
    return [...out, '', ...rtts];
  });
});
