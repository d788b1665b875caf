/**
 * The host's memory while data moves through the public API, unpaced, the module in a child process:
 *
 *   growth       resident set (RSS) over the start, sampled every 100 ms, each row in a fresh process
 *                (bench/support/memoryProbe.ts), while BENCH_MEMORY_SIZE (default 256 MiB) is received with
 *                `recv` in buffer mode, in push mode, and through a `connectTls` stream piped to a sink, and while
 *                BENCH_MEMORY_SEND (default 64 MiB: sending is the slow direction) goes out with `send` of 1 MiB
 *                at a time; the baseline is raw Node TLS receiving the same size from the same peer
 *   slow reader  the peer sends 4 MiB that nobody reads for 3 s: the most the connection held meanwhile (buffer
 *                mode stops draining the module at `maxBuffered`, 64 KiB; push mode switches the module to buffer
 *                mode there, AT+QISWTMD), through a `connectTls` stream whose consumer stops; then everything is
 *                read, to show nothing was lost
 *   slow vs fast push mode, each in a fresh process: BENCH_MEMORY_SLOW (default 32 MiB) received in push mode by a
 *                reader that reads at once (`recv-push`) and by one that starts after 3 s (`slow-push`), and by a
 *                slow reader in buffer mode for reference: the most the connection held, the pauses, RSS growth
 */
import { Writable } from 'node:stream';
import { describe } from 'vitest';
import type { Socket } from '../src/ussl/Socket.js';
import { benchOnce } from './support/benchOnce.js';
import {
  envBytes, KiB, MiB, Modem, openTlsSocket, PEER, recvExactly, runProbe, seconds, size, startHost,
} from './support/harness.js';
import type { MemoryFigure, MemoryKind } from './support/memoryProbe.js';

const RECEIVE = envBytes('BENCH_MEMORY_SIZE', 256 * MiB);
const SEND = envBytes('BENCH_MEMORY_SEND', 64 * MiB);
const SLOW = 4 * MiB;
const SLOW_MS = 3000;
const SLOW_VS_FAST = envBytes('BENCH_MEMORY_SLOW', 32 * MiB);

const row = (what: string, bytes: number, r: MemoryFigure): string =>
  `| ${what} | ${size(bytes)} | ${seconds(r.ms)} | ${r.startMiB.toFixed(0)} MiB | ${r.peak.toFixed(1)} MiB | ${r.end.toFixed(1)} MiB | ${r.heapKept.toFixed(2)} MiB |`;

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
    const pauses = sock.connection?.pushPauses ?? 0;
    await sock.close();
    out.push(receive === 'buffer'
      ? `| usocket, buffer mode: the connection's buffer | ${(most / KiB).toFixed(1)} KiB | 64 KiB (\`maxBuffered\`) plus one read of ≤1500 bytes; the module holds the rest, then TCP holds the peer | yes |`
      : `| usocket, push mode: the connection's buffer | ${(most / KiB).toFixed(1)} KiB | 64 KiB (\`maxBuffered\`) plus what was on the line when AT+QISWTMD=<id>,0 went out (${pauses} pause${pauses === 1 ? '' : 's'}); the module holds the rest | yes |`);
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

const ROWS: ReadonlyArray<[MemoryKind, string]> = [
  ['raw', 'baseline: raw Node TLS receiving'],
  ['recv-buffer', 'usocket recv, buffer mode, 64 KiB per call'],
  ['recv-push', 'usocket recv, push mode, 64 KiB per call'],
  ['stream', 'connectTls stream piped to a sink (buffer mode)'],
  ['send', 'usocket send, 1 MiB per call'],
];

const SLOW_ROWS: ReadonlyArray<[MemoryKind, string]> = [
  ['recv-push', 'push mode, reads at once (usocket recv, 64 KiB per call)'],
  ['slow-push', 'push mode, reads after 3 s'],
  ['slow-buffer', 'buffer mode, reads after 3 s'],
];

describe('memory while data moves', () => {
  benchOnce('RSS growth over a long transfer, and a slow reader', async () => {
    const out = [
      'host RSS growth while moving data unpaced through the API, module in a child process; each row in a fresh process,',
      'after 1 MiB of warm-up, over its RSS at the start (after a GC): the peak (sampled every 100 ms) and the end (after a GC);',
      'and the JavaScript heap still in use after the last GC over the start (what the transfer left reachable)',
      '| what | size | time | RSS at the start | RSS growth at the peak | RSS growth at the end | heap kept |',
      '|---|---|---|---|---|---|---|',
    ];
    for (const [kind, what] of ROWS) {
      const bytes = kind === 'send' ? SEND : RECEIVE;
      out.push(row(what, bytes, await runProbe<MemoryFigure>('memoryProbe.ts', [kind, String(bytes)])));
    }
    out.push('', `slow against fast reader, ${size(SLOW_VS_FAST)} each, each in a fresh process (RSS growth as above); ` +
      'the slow one starts reading 3 s after the request', '| reader | time | most held in the connection | push paused | RSS growth at the peak | RSS growth at the end |',
      '|---|---|---|---|---|---|');
    for (const [kind, what] of SLOW_ROWS) {
      const r = await runProbe<MemoryFigure>('memoryProbe.ts', [kind, String(SLOW_VS_FAST)]);
      out.push(`| ${what} | ${seconds(r.ms)} | ${(r.heldKiB ?? 0).toFixed(1)} KiB | ${kind === 'slow-buffer' ? '-' : `${r.pauses ?? 0}×`} | ` +
        `${r.peak.toFixed(1)} MiB | ${r.end.toFixed(1)} MiB |`);
    }
    const host = await startHost({ count: 1 });
    const modem = await Modem.open(host.urls[0]!);
    try {
      out.push('', ...await slowReaders(modem));
      out.push('', `module host (child process) RSS at the end: ${(await host.usage()).rssMiB.toFixed(0)} MiB`);
    } finally {
      await modem.close();
      await host.stop();
    }
    return out;
  });
});
