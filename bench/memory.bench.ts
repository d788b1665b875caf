/**
 * The host's memory while data moves through the public API, unpaced, the module in a child process:
 *
 *   growth       resident set (RSS) over the start, sampled every 100 ms, while BENCH_MEMORY_SIZE (default 256 MiB)
 *                is received with `recv` in buffer mode, in push mode, and through a `connectTls` stream piped to a
 *                sink, and while BENCH_MEMORY_SEND (default 64 MiB: sending is the slow direction) goes out with
 *                `send` of 1 MiB at a time; the baseline is raw Node TLS receiving the same size from the same peer
 *   slow reader  the peer sends 4 MiB that nobody reads for 3 s: the most the connection held meanwhile (buffer
 *                mode stops draining the module at `maxBuffered`, 64 KiB), through a `connectTls` stream whose
 *                consumer stops, and in push mode, where the module decides; then everything is read, to show
 *                nothing was lost
 */
import { connect as tlsConnect } from 'node:tls';
import { Writable } from 'node:stream';
import { describe } from 'vitest';
import type { Socket } from '../src/ussl/Socket.js';
import {
  benchOnce, envBytes, KiB, MiB, Modem, openTlsSocket, PEER, recvExactly, seconds, size, startHost, type ModuleHost,
} from './support/harness.js';

const RECEIVE = envBytes('BENCH_MEMORY_SIZE', 256 * MiB);
const SEND = envBytes('BENCH_MEMORY_SEND', 64 * MiB);
const SLOW = 4 * MiB;
const SLOW_MS = 3000;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const rssMiB = (): number => process.memoryUsage().rss / MiB;

/** Runs `work` while sampling RSS: the growth over the start at the peak and at the end, and the time it took. */
async function sampled(work: () => Promise<void>): Promise<{ peak: number; end: number; ms: number }> {
  gc();
  const start = rssMiB();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  gc();
  const end = rssMiB();
  return { peak: Math.max(peak, end) - start, end: end - start, ms };
}

const row = (what: string, bytes: number, r: { peak: number; end: number; ms: number }): string =>
  `| ${what} | ${size(bytes)} | ${seconds(r.ms)} | ${r.peak.toFixed(1)} MiB | ${r.end.toFixed(1)} MiB |`;

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

/** The most `held()` reported while nobody read for SLOW_MS. */
async function heldWhileIdle(held: () => number): Promise<number> {
  let most = 0;
  const timer = setInterval(() => (most = Math.max(most, held())), 20);
  await new Promise((r) => setTimeout(r, SLOW_MS));
  clearInterval(timer);
  return Math.max(most, held());
}

async function slowReaders(modem: Modem): Promise<string[]> {
  const out = [`slow reader: the peer sends ${size(SLOW)}, nobody reads for ${SLOW_MS / 1000} s, then everything is read`,
    '| path | most held on the host meanwhile | its bound | all arrived after |', '|---|---|---|---|'];
  for (const receive of ['buffer', 'push'] as const) {
    const sock: Socket = await openTlsSocket(modem, receive);
    await sock.send(`DOWN ${SLOW}\n`);
    const most = await heldWhileIdle(() => sock.connection?.readableLength ?? 0);
    await recvExactly(sock, SLOW);
    await sock.close();
    out.push(receive === 'buffer'
      ? `| usocket, buffer mode: the connection's buffer | ${(most / KiB).toFixed(1)} KiB | 64 KiB (\`maxBuffered\`) plus one read of ≤1500 bytes; the module holds the rest, then TCP holds the peer | yes |`
      : `| usocket, push mode: the connection's buffer | ${(most / KiB).toFixed(1)} KiB | none on the host: the module pushes what arrives, only the line's speed paces it | yes |`);
  }
  // A stream piped into a consumer that stops after its first chunk: what the host pulled from the module meanwhile.
  const stream = modem.connectTls({ host: PEER, port: 443 });
  await new Promise<void>((resolve, reject) => stream.once('secureConnect', () => resolve()).once('error', reject));
  let stuck = true;
  let release: (() => void) | undefined;
  let got = 0;
  const all = new Promise<void>((resolve) => {
    stream.pipe(new Writable({
      write(chunk: Buffer, _enc, next) {
        got += chunk.length;
        if (got >= SLOW) resolve();
        if (stuck) release = next;
        else next();
      },
    }));
  });
  stream.write(`DOWN ${SLOW}\n`);
  const pulled = await heldWhileIdle(() => (stream as unknown as { bytesRead: number }).bytesRead);
  stuck = false;
  release?.();
  await all;
  stream.destroy();
  out.push(`| connectTls stream piped to a consumer that stopped: pulled from the module | ${(pulled / KiB).toFixed(1)} KiB | ` +
    `the stream's highWaterMark (${stream.readableHighWaterMark / KiB} KiB) and the pipe's, plus the connection's 64 KiB | yes |`);
  return out;
}

describe('memory while data moves', () => {
  benchOnce('RSS growth over a long transfer, and a slow reader', async () => {
    const out = [
      'host RSS growth while moving data unpaced through the API, module in a child process (over the RSS at the start, after a GC)',
      '| what | size | time | peak | end |',
      '|---|---|---|---|---|',
    ];
    const host = await startHost({ count: 1 });
    const modem = await Modem.open(host.urls[0]!);
    try {
      // One small transfer first, so what the first use of each code path allocates is not counted as growth.
      const warm = await openTlsSocket(modem);
      await warm.send(`DOWN ${MiB}\n`);
      await recvExactly(warm, MiB);
      await warm.close();

      out.push(row('baseline: raw Node TLS receiving', RECEIVE, await sampled(() => rawReceive(host, RECEIVE))));
      for (const receive of ['buffer', 'push'] as const) {
        const sock = await openTlsSocket(modem, receive);
        out.push(row(`usocket recv, ${receive} mode, 64 KiB per call`, RECEIVE, await sampled(async () => {
          await sock.send(`DOWN ${RECEIVE}\n`);
          await recvExactly(sock, RECEIVE);
        })));
        await sock.close();
      }
      out.push(row('connectTls stream piped to a sink, buffer mode', RECEIVE, await sampled(() => streamReceive(modem, RECEIVE))));
      const sock = await openTlsSocket(modem);
      out.push(row('usocket send, 1 MiB per call', SEND, await sampled(async () => {
        await sock.send(`UP ${SEND}\n`);
        const piece = Buffer.alloc(MiB, 0x61);
        for (let off = 0; off < SEND; off += MiB) await sock.send(piece.subarray(0, Math.min(MiB, SEND - off)));
        await recvExactly(sock, 3);
      })));
      await sock.close();
      out.push('', ...await slowReaders(modem));
      out.push('', `module host (child process) RSS at the end: ${(await host.usage()).rssMiB.toFixed(0)} MiB`);
    } finally {
      await modem.close();
      await host.stop();
    }
    return out;
  });
});
