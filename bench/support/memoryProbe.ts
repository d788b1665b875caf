/**
 * One row of bench/memory.bench.ts, in a fresh process so that what ran before cannot lend it memory or charge it
 * any: `node --import tsx --expose-gc bench/support/memoryProbe.ts <kind> <bytes>` starts a module host, warms the
 * path up with 1 MiB, then moves `bytes` while sampling RSS every 100 ms, and prints one JSON line
 * ({@link MemoryFigure}). Kinds: `raw` (Node TLS receiving, the baseline), `recv-buffer`, `recv-push` (usocket
 * `recv`, 64 KiB per call), `stream` (a `connectTls` stream piped to a sink), `send` (usocket `send`, 1 MiB per call),
 * `slow-push` and `slow-buffer` (nobody reads for {@link SLOW_MS} after the request, then `recv` as `recv-*` does).
 */
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { MiB, Modem, openTlsSocket, PEER, recvExactly, startHost, type ModuleHost } from './harness.js';

/**
 * RSS growth over the start (after a GC), at the peak and at the end (after a GC), in MiB; the JavaScript heap still
 * in use after the final GC over the one at the start (what the transfer left reachable), in MiB; the time taken.
 */
export interface MemoryFigure {
  readonly startMiB: number;
  readonly peak: number;
  readonly end: number;
  readonly heapKept: number;
  readonly ms: number;
  /** usocket receive kinds: the most the connection's buffer held, at any append, in KiB. */
  readonly heldKiB?: number;
  /** usocket receive kinds: times push mode paused for the reader (`AT+QISWTMD=<id>,0`). */
  readonly pauses?: number;
}

export type MemoryKind = 'raw' | 'recv-buffer' | 'recv-push' | 'stream' | 'send' | 'slow-push' | 'slow-buffer';

/** How long the slow kinds leave the data unread after asking for it. */
export const SLOW_MS = 3000;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const rssMiB = (): number => process.memoryUsage().rss / MiB;

async function rawReceive(host: ModuleHost, bytes: number): Promise<void> {
  const s = tlsConnect({ host: '127.0.0.1', port: host.peerPort, ca: host.ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= bytes) resolve();
    });
    s.write(`DOWN ${bytes}\n`);
  });
  s.destroy();
}

async function streamReceive(modem: Modem, bytes: number): Promise<void> {
  const stream = modem.connectTls({ host: PEER, port: 443 });
  await new Promise<void>((resolve, reject) => stream.once('secureConnect', () => resolve()).once('error', reject));
  let got = 0;
  await new Promise<void>((resolve) => {
    stream.pipe(new Writable({
      write(chunk: Buffer, _enc, next) {
        got += chunk.length;
        if (got >= bytes) resolve();
        next();
      },
    }));
    stream.write(`DOWN ${bytes}\n`);
  });
  stream.destroy();
}

let held = 0;
let pauses = 0;

async function move(kind: MemoryKind, host: ModuleHost, modem: Modem, bytes: number, warmUp = false): Promise<void> {
  if (kind === 'raw') return rawReceive(host, bytes);
  if (kind === 'stream') return streamReceive(modem, bytes);
  const sock = await openTlsSocket(modem, kind === 'recv-push' || kind === 'slow-push' ? 'push' : 'buffer');
  const conn = sock.connection!;
  held = 0;
  conn.on('readable', () => (held = Math.max(held, conn.readableLength)));
  if (kind === 'slow-push' || kind === 'slow-buffer') {
    await sock.send(`DOWN ${bytes}\n`);
    if (!warmUp) await new Promise((r) => setTimeout(r, SLOW_MS));
    await recvExactly(sock, bytes);
  } else if (kind === 'send') {
    await sock.send(`UP ${bytes}\n`);
    const piece = Buffer.alloc(MiB, 0x61);
    for (let off = 0; off < bytes; off += MiB) await sock.send(piece.subarray(0, Math.min(MiB, bytes - off)));
    await recvExactly(sock, 3);
  } else {
    await sock.send(`DOWN ${bytes}\n`);
    await recvExactly(sock, bytes);
  }
  pauses = conn.pushPauses;
  await sock.close();
}

const kind = process.argv[2] as MemoryKind;
const bytes = Number(process.argv[3]);
const host = await startHost({ count: 1 });
const modem = await Modem.open(host.urls[0]!);
try {
  await move(kind, host, modem, MiB, true); // warm-up: what the first pass allocates once is not growth
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const start = rssMiB();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);
  const t0 = performance.now();
  await move(kind, host, modem, bytes);
  const ms = performance.now() - t0;
  clearInterval(timer);
  gc();
  const end = rssMiB();
  const heapKept = (process.memoryUsage().heapUsed - heap0) / MiB;
  const receiving = kind !== 'raw' && kind !== 'stream' && kind !== 'send';
  const figure: MemoryFigure = {
    startMiB: start, peak: Math.max(peak, end) - start, end: end - start, heapKept, ms, ...(receiving ? { heldKiB: held / 1024, pauses } : {}),
  };
  console.log(JSON.stringify(figure));
} finally {
  await modem.close();
  await host.stop();
}
