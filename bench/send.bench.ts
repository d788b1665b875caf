/**
 * Sending through the public API (`usocket.socket` + `ussl.wrap_socket`, then `sendall`), the virtual EC25 in a child
 * process (bench/support/moduleHost.ts) on a paced line, at 921600 and 115200 baud with latency profiles `none` and
 * `bg96` (src/emulator/latencyProfiles.ts). Two questions:
 *
 * (a) Does anything beat full 1460-byte `AT+QSSLSEND` commands? A fast peer; the library's own chunking (one
 *     `sendall` of everything: 1460-byte commands while data is queued) next to an application that waits for each
 *     write of 1460/1024/512/256 bytes (one command each), and 256-byte writes queued at once (joined again). Each
 *     figure is the share of the line (baud/10 bytes/s) that payload got, next to what the protocol's framing and the
 *     module's delays allow for that command size (harness.ts `ceiling`, per command size). No command carries more
 *     than 1460 bytes: the test command says `(1-1460)` (quectel-at.md §4.1), the module refuses more.
 * (b) A peer slower than the line: the module's uplink takes a quarter (BENCH_SEND_PEER_SHARE) of what sends can reach
 *     on that line with that module's delays (harness.ts `ceiling`), so its 10240-byte send buffer
 *     (VirtualModuleOptions.sendBufferBytes) fills and it answers `SEND FAIL`. A slow TLS peer behind loopback would
 *     not do it: the kernel's socket buffers take megabytes before the module's fills. Goodput is relative to the
 *     peer's rate; line time wasted is the refused commands' bytes on the line (a `SEND FAIL` comes after the prompt
 *     and the whole payload). The retry policies (ConnectionTuning.sendRetry) run side by side in the same run, one
 *     virtual module and modem each: `backoff` 20 ms·2^attempt up to 1 s (the default before this bench), the same
 *     capped at 250 ms, a fixed 20 ms, and `paced`. Polling the module's unacknowledged count is not among them:
 *     `AT+QISEND=<id>,0` reports it for TCP, but no manual documents `AT+QSSLSEND=<id>,0` for SSL (quectel-at.md
 *     §4.1, §11 item 4; the virtual module answers ERROR).
 *
 * Sizes: (a) moves BENCH_SEND_COMMANDS (default 24) commands' worth per writer and pass at 921600,
 * BENCH_SEND_COMMANDS_115200 (default 8) at 115200, in two passes (the second in reverse order; the better counts);
 * (b) moves what the peer takes in BENCH_SEND_SLOW_SECONDS (default 8 s). BENCH_SEND_BAUDS and BENCH_SEND_LATENCY
 * (comma-separated) pick the rows.
 */
import { describe } from 'vitest';
import { LATENCY_PROFILES, type LatencyProfileName } from '../src/emulator/index.js';
import type { ConnectionTuning } from '../src/modem/services/Connection.js';
import type { SendRetryPolicy } from '../src/modem/services/SendRetry.js';
import type { Socket } from '../src/ussl/Socket.js';
import { openTransport } from '../src/transport/openTransport.js';
import type { Transport } from '../src/transport/Transport.js';
import { benchOnce } from './support/benchOnce.js';
import { ceiling, KiB, Modem, openModem, openTlsSocket, pct, recvExactly, seconds, size, startHost, type Delays } from './support/harness.js';

const BAUDS = (process.env.BENCH_SEND_BAUDS ?? '921600,115200').split(',').map(Number);
const LATENCIES = (process.env.BENCH_SEND_LATENCY ?? 'none,bg96').split(',') as LatencyProfileName[];
const COMMANDS_921600 = Number(process.env.BENCH_SEND_COMMANDS ?? 24);
const COMMANDS_115200 = Number(process.env.BENCH_SEND_COMMANDS_115200 ?? 8);
const PEER_SHARE = Number(process.env.BENCH_SEND_PEER_SHARE ?? 0.25);
const SLOW_SECONDS = Number(process.env.BENCH_SEND_SLOW_SECONDS ?? 8);
const MAX_SEND = 1460;

// ------------------------------------------------------------------ what crosses the line

/** `AT+QSSLSEND` commands, the `SEND FAIL`s among their answers, and the line bytes those refused ones took. */
interface SendCount { sends: number; fails: number; failedBytes: number }

const SEND_FAIL = '\r\nSEND FAIL\r\n';

/** A transport factory for `Modem.open` that counts sends and refusals as they cross the line. */
function countingSends(url: string, count: SendCount): () => Promise<Transport> {
  return async () => {
    const t = await openTransport(url);
    let lastSend = 0;
    let tail = '';
    const write = t.write.bind(t);
    t.write = (data: Uint8Array): Promise<void> => {
      // The engine writes a command line whole; a send's bytes on the line: the line, `\r\n> `, the payload.
      const m = data.length < 40 ? /^AT\+QSSLSEND=\d+,(\d+)\r$/.exec(Buffer.from(data).toString('latin1')) : null;
      if (m) {
        count.sends++;
        lastSend = data.length + 4 + Number(m[1]);
      }
      return write(data);
    };
    t.on('data', (d: Uint8Array) => {
      const text = tail + Buffer.from(d).toString('latin1');
      let at = -1;
      for (let i = text.indexOf(SEND_FAIL); i >= 0; i = text.indexOf(SEND_FAIL, i + 1)) {
        count.fails++;
        count.failedBytes += lastSend + SEND_FAIL.length;
        at = i + SEND_FAIL.length;
      }
      tail = text.slice(Math.max(at, text.length - SEND_FAIL.length + 1));
    });
    return t;
  };
}

/** Share of the line that `n`-byte sends allow: their framing plus the module's delays per command (echo off, id 0). */
function ceilingFor(n: number, baud: number, d: Delays): number {
  const onLine = `AT+QSSLSEND=0,${n}\r`.length + '\r\n> '.length + n + '\r\nSEND OK\r\n'.length;
  return ((n * 10_000) / baud) / ((onLine * 10_000) / baud + d.commandMs + d.promptMs + d.sendOkMs);
}

// ------------------------------------------------------------------ (a) command sizes, fast peer

interface Writer {
  readonly name: string;
  /** Bytes of each command it makes. */
  readonly command: number;
  /** Moves `bytes` through `sock`. */
  readonly run: (sock: Socket, bytes: number) => Promise<void>;
}

const awaited = (piece: number): Writer => ({
  name: `${piece}-byte writes, each awaited`,
  command: piece,
  run: async (sock, bytes) => {
    const data = Buffer.alloc(piece, 0x61);
    for (let off = 0; off < bytes; off += piece) await sock.sendall(data.subarray(0, Math.min(piece, bytes - off)));
  },
});

const WRITERS: readonly Writer[] = [
  { name: 'one sendall of everything (library chunking)', command: MAX_SEND, run: (sock, bytes) => sock.sendall(Buffer.alloc(bytes, 0x61)) },
  awaited(1460),
  awaited(1024),
  awaited(512),
  awaited(256),
  {
    name: '256-byte writes queued at once',
    command: MAX_SEND,
    run: async (sock, bytes) => {
      const data = Buffer.alloc(256, 0x61);
      const sends: Array<Promise<void>> = [];
      for (let off = 0; off < bytes; off += 256) sends.push(sock.sendall(data.subarray(0, Math.min(256, bytes - off))));
      await Promise.all(sends);
    },
  },
];

/** `UP <n>`, the writer, then the peer's `OK` (it has every byte); milliseconds from the first write. */
async function timed(sock: Socket, bytes: number, run: (sock: Socket, bytes: number) => Promise<void>): Promise<number> {
  await sock.sendall(`UP ${bytes}\n`);
  const t0 = performance.now();
  await run(sock, bytes);
  await recvExactly(sock, 3);
  return performance.now() - t0;
}

async function sizesRows(baud: number, latency: LatencyProfileName): Promise<string[]> {
  const commands = baud <= 115_200 ? COMMANDS_115200 : COMMANDS_921600;
  const d = LATENCY_PROFILES[latency];
  const host = await startHost({ count: 1, baud, latency });
  const count: SendCount = { sends: 0, fails: 0, failedBytes: 0 };
  const modem = await openModem(countingSends(host.urls[0]!, count));
  const rows: string[] = [];
  try {
    const sock = await openTlsSocket(modem);
    // Warm-up, not counted: the first transfer on a connection also pays for code the process runs the first time.
    await timed(sock, 4 * MAX_SEND, (s, n) => s.sendall(Buffer.alloc(n, 0x61)));
    // Two passes, the second in reverse order, each writer's better one counts: what runs first or last gains nothing.
    const best = new Map<Writer, { share: number; sends: number; fails: number }>();
    for (const pass of [WRITERS, [...WRITERS].reverse()]) {
      for (const w of pass) {
        const bytes = commands * w.command;
        const before = { ...count };
        const share = bytes / ((await timed(sock, bytes, w.run)) / 1000) / (baud / 10);
        const prev = best.get(w);
        best.set(w, { share: Math.max(share, prev?.share ?? 0), sends: count.sends - before.sends - 1, fails: count.fails - before.fails + (prev?.fails ?? 0) });
      }
    }
    const baseline = best.get(WRITERS[0]!)!.share;
    for (const w of WRITERS) {
      const r = best.get(w)!;
      rows.push(`| ${baud} | ${latency} | ${w.name} | ${size(commands * w.command)} | ${r.sends} | ${pct(r.share)} | ${pct(ceilingFor(w.command, baud, d))} | ` +
        `${(r.share / baseline).toFixed(2)} | ${r.fails} |`);
    }
    await sock.close();
  } finally {
    await modem.close();
    await host.stop();
  }
  return rows;
}

// ------------------------------------------------------------------ (b) a slow peer, retry policies

const POLICIES: ReadonlyArray<{ readonly name: string; readonly policy: SendRetryPolicy }> = [
  { name: 'backoff 20 ms·2^n ≤ 1 s', policy: { kind: 'backoff', firstMs: 20, maxMs: 1000 } },
  { name: 'backoff 20 ms·2^n ≤ 250 ms', policy: { kind: 'backoff', firstMs: 20, maxMs: 250 } },
  { name: 'fixed 20 ms', policy: { kind: 'backoff', firstMs: 20, maxMs: 20 } },
  { name: 'paced 20 ms…1 s', policy: { kind: 'paced', firstMs: 20, maxMs: 1000 } },
];

async function slowRows(baud: number, latency: LatencyProfileName): Promise<string[]> {
  // A share of what sends can reach on this line with this module's delays, so the buffer fills on every row.
  const peerRate = Math.round((baud / 10) * ceiling('send', 64 * KiB, baud, LATENCY_PROFILES[latency]) * PEER_SHARE);
  const bytes = Math.max(16, Math.round((peerRate * SLOW_SECONDS) / KiB)) * KiB;
  const host = await startHost({ count: POLICIES.length, baud, latency, uplinkBytesPerSecond: peerRate });
  const counts = POLICIES.map((): SendCount => ({ sends: 0, fails: 0, failedBytes: 0 }));
  const modems: Modem[] = [];
  try {
    for (const [i, p] of POLICIES.entries()) {
      const connections: ConnectionTuning = { sendRetry: p.policy };
      modems.push(await openModem(countingSends(host.urls[i]!, counts[i]!), 20, { connections }));
    }
    return await Promise.all(POLICIES.map(async (p, i) => {
      const sock = await openTlsSocket(modems[i]!);
      const before = { ...counts[i]! };
      const ms = await timed(sock, bytes, (s, n) => s.sendall(Buffer.alloc(n, 0x62)));
      await sock.close();
      const c = counts[i]!;
      const fails = c.fails - before.fails;
      const wastedMs = ((c.failedBytes - before.failedBytes) * 10_000) / baud;
      return `| ${baud} | ${latency} | ${peerRate} B/s | ${p.name} | ${size(bytes)} | ${pct(bytes / (ms / 1000) / peerRate)} | ${c.sends - before.sends - 1} | ` +
        `${fails} | ${seconds(wastedMs)} (${pct(wastedMs / ms)}) | ${seconds(ms)} |`;
    }));
  } finally {
    await Promise.all(modems.map((m) => m.close()));
    await host.stop();
  }
}

describe('sending through usocket/ussl: command sizes and SEND FAIL', () => {
  benchOnce('(a) command sizes, fast peer', async () => {
    const out = [
      '(a) a fast peer: share of the line (baud/10 bytes/s) that payload got per way of writing (the better of two passes), next to what the protocol allows for that ' +
        'command size; the first row of each baud and latency is the baseline',
      '| baud | latency | writes | bytes a pass | AT+QSSLSEND a pass | share of the line | protocol allows | vs. library chunking | SEND FAIL, both passes |',
      '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const baud of BAUDS) for (const latency of LATENCIES) out.push(...await sizesRows(baud, latency));
    return out;
  });

  benchOnce('(b) a peer slower than the line, retry policies side by side', async () => {
    const out = [
      `(b) a peer at ${pct(PEER_SHARE)} of what sends can reach on the line (the module's uplink; the protocol's ceiling for sends × the share), 10240-byte send buffer: ` +
        'goodput relative to the peer\'s rate, AT+QSSLSEND commands, ' +
        'SEND FAILs (each one retried), and line time the refused sends took (share of the transfer); the policies run at once, one module each',
      '| baud | latency | peer | retry policy | bytes | goodput / peer rate | AT+QSSLSEND | SEND FAIL | line time wasted | took |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const baud of BAUDS) for (const latency of LATENCIES) out.push(...await slowRows(baud, latency));
    return out;
  });
});
