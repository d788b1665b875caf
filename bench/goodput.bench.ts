/**
 * Goodput on a paced serial line, through the public API: a TLS socket from `usocket.socket` + `ussl.wrap_socket`,
 * the virtual module in a child process (bench/support/moduleHost.ts, served on TCP as ser2net would serve a
 * line) paced at 115200 and 921600 baud, with every latency profile (`none`: the module answers as fast as the
 * line carries it; `bg96`: a real module's delays, src/emulator/latencyProfiles.ts).
 *
 * Each figure is the share of the line (baud/10 bytes per second) that payload got, next to:
 *   - the protocol's ceiling: the share its framing bytes and the module's delays leave (harness.ts `ceiling`)
 *   - baselines measured on the same line in the same run: `AT+QFUPL` data mode (one command, then raw bytes), and
 *     the same `AT+QSSLSEND`/`AT+QSSLRECV` commands in a plain `modem.send` loop (no socket API)
 *
 * Sizes: BENCH_GOODPUT_SIZE (default 1 MiB) at 921600; BENCH_GOODPUT_SIZE_115200 (default 256 KiB: 1 MiB each way
 * takes 91 s per figure at 115200, over 8 minutes for the rows) at 115200. The baselines move a quarter of the size.
 * BENCH_GOODPUT_BAUDS and BENCH_GOODPUT_LATENCY (comma-separated) pick the rows.
 */
import { describe } from 'vitest';
import type { AtTraceEvent } from '../src/at/AtEngine.js';
import { LATENCY_PROFILE_NAMES, LATENCY_PROFILES, type LatencyProfileName } from '../src/emulator/index.js';
import { benchOnce } from './support/benchOnce.js';
import {
  ceiling, envBytes, framing, KiB, MiB, Modem, openTlsSocket, pct, PEER, seconds, size, startHost, timedDown, timedUp,
} from './support/harness.js';

const BAUDS = (process.env.BENCH_GOODPUT_BAUDS ?? '115200,921600').split(',').map(Number);
const LATENCIES = (process.env.BENCH_GOODPUT_LATENCY ?? LATENCY_PROFILE_NAMES.join(',')).split(',') as LatencyProfileName[];
const SIZE_921600 = envBytes('BENCH_GOODPUT_SIZE', MiB);
const SIZE_115200 = envBytes('BENCH_GOODPUT_SIZE_115200', 256 * KiB);
const sizeAt = (baud: number): number => (baud <= 115_200 ? SIZE_115200 : SIZE_921600);

/** A client id the socket API does not reach for here (it takes the lowest free ones). */
const RAW_ID = 11;

/**
 * The same transfers with `modem.send` in a plain loop, on a TLS connection opened by hand on {@link RAW_ID}: the
 * AT path without the socket API, so the gap between this and the API figures is the API's own. Milliseconds each way.
 */
async function rawAtLoop(modem: Modem, bytes: number): Promise<{ up: number; down: number }> {
  await modem.send(`AT+QSSLOPEN=1,1,${RAW_ID},"${PEER}",443,0`, { lateResult: { prefix: `+QSSLOPEN: ${RAW_ID},`, timeoutMs: 30_000 } });
  const send = (data: Uint8Array) => modem.send(`AT+QSSLSEND=${RAW_ID},${data.length}`, { payload: data });
  const recv = async () => (await modem.send(`AT+QSSLRECV=${RAW_ID},1500`, { dataPrefix: '+QSSLRECV:', expect: ['+QSSLRECV:'] })).data.length;
  /** Reads until `n` bytes came, waiting for the recv URC whenever the module has none. */
  const drain = async (n: number): Promise<void> => {
    let urc = false;
    let wake: (() => void) | undefined;
    const off = modem.at.onUrc(`+QSSLURC: "recv",${RAW_ID}`, () => {
      urc = true;
      wake?.();
    });
    try {
      for (let got = 0; got < n;) {
        urc = false;
        const r = await recv();
        got += r;
        // The module re-arms its URC once a read comes back empty (T13): it says when there is more.
        if (r === 0 && !urc) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
    }
  };
  try {
    await send(Buffer.from(`UP ${bytes}\n`));
    const payload = Buffer.alloc(1460, 0x61);
    let t0 = performance.now();
    for (let off = 0; off < bytes; off += 1460) await send(payload.subarray(0, Math.min(1460, bytes - off)));
    await drain(3);
    const up = performance.now() - t0;
    await send(Buffer.from(`DOWN ${bytes}\n`));
    t0 = performance.now();
    await drain(bytes);
    return { up, down: performance.now() - t0 };
  } finally {
    await modem.send(`AT+QSSLCLOSE=${RAW_ID},0`).catch(() => undefined);
  }
}

const median = (xs: number[]): number => (xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[xs.length >> 1]!);

/**
 * Where the time of one buffer-mode exchange goes, from the engine's trace of a timed transfer: the median time from
 * one command to the next, the line time of its bytes, and the library's own share (from the module's last byte of
 * one step to the host's next write: `>` to the payload, the final result to the next command). The rest is the
 * module's and the link's (the child's event loop, the TCP hop, the OS waking each side).
 */
function exchanges(events: readonly AtTraceEvent[], baud: number, bytesPerExchange: number): string {
  const commands = events.filter((e) => e.dir === 'out' && e.kind === 'command');
  const each = median(commands.slice(1).map((e, i) => e.at - commands[i]!.at));
  const own: number[] = [];
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1]!, events[i]!];
    if (a.dir === 'in' && b.dir === 'out' && (a.kind === 'prompt' || a.kind === 'line')) own.push(b.at - a.at);
  }
  const library = median(own) * (events.some((e) => e.kind === 'prompt') ? 2 : 1);
  const line = (bytesPerExchange * 10_000) / baud;
  return `${each.toFixed(2)} = ${line.toFixed(2)} + ${(library * 1000).toFixed(0)} µs + ${(each - line - library).toFixed(2)}`;
}

async function row(baud: number, latency: LatencyProfileName): Promise<{ goodput: string; turns: string }> {
  const bytes = sizeAt(baud);
  const line = baud / 10;
  const share = (n: number, ms: number): number => n / (ms / 1000) / line;
  const d = LATENCY_PROFILES[latency];
  const host = await startHost({ count: 1, baud, latency });
  let trace: AtTraceEvent[] | undefined;
  const modem = await Modem.open(host.urls[0]!, { dataModeUrcPort: 'usbmodem', at: { trace: (e) => trace?.push(e) } });
  /** Runs a timed transfer with the trace on; its milliseconds and the exchanges' breakdown. */
  const traced = async (run: () => Promise<number>, perExchange: number): Promise<{ ms: number; turns: string }> => {
    trace = [];
    try {
      const ms = await run();
      return { ms, turns: exchanges(trace, baud, perExchange) };
    } finally {
      trace = undefined;
    }
  };
  const t0 = performance.now();
  try {
    const qf = Math.max(16 * KiB, Math.floor(bytes / 4 / KiB) * KiB);
    const name = 'bench.bin';
    const q0 = performance.now();
    await modem.send(`AT+QFUPL="${name}",${qf},10`, { payload: Buffer.alloc(qf, 0x42), payloadAfter: 'connect', expect: ['+QFUPL:'] });
    const qfShare = share(qf, performance.now() - q0);
    await modem.send(`AT+QFDEL="${name}"`);
    // Its framing: the command, CONNECT, the bytes, `+QFUPL: <size>,<checksum>` (no CR LF in front) and OK.
    const qfBytes = `AT+QFUPL="${name}",${qf},10\r`.length + '\r\nCONNECT\r\n'.length + qf + `+QFUPL: ${qf},ffff\r\n\r\nOK\r\n`.length;
    const qfCeiling = ((qf * 10_000) / baud) / ((qfBytes * 10_000) / baud + d.commandMs);

    const raw = await rawAtLoop(modem, qf);

    const buffer = await openTlsSocket(modem, 'buffer');
    const sendFraming = framing('send', 1460);
    const recvFraming = framing('recv', 1500);
    const upRun = await traced(() => timedUp(buffer, bytes), sendFraming.written + sendFraming.read);
    const downRun = await traced(() => timedDown(buffer, bytes), recvFraming.written + recvFraming.read);
    const [up, down] = [share(bytes, upRun.ms), share(bytes, downRun.ms)];
    await buffer.close();
    const push = await openTlsSocket(modem, 'push');
    const pushed = share(bytes, await timedDown(push, bytes));
    await push.close();
    // Transparent mode: opened and closed outside the timed part (its escape waits out the guard times).
    const transparent = await openTlsSocket(modem, 'transparent');
    const rawUp = share(bytes, await timedUp(transparent, bytes));
    const rawDown = share(bytes, await timedDown(transparent, bytes));
    await transparent.close();
    const took = seconds(performance.now() - t0);
    return {
      goodput: `| ${baud} | ${latency} | ${size(bytes)} | ${pct(qfShare)} (${pct(qfCeiling)}) | ${pct(share(qf, raw.up))} | ${pct(up)} (${pct(ceiling('send', bytes, baud, d))}) | ` +
        `${pct(share(qf, raw.down))} | ${pct(down)} (${pct(ceiling('recv', bytes, baud, d))}) | ${pct(pushed)} (${pct(ceiling('push', bytes, baud, d))}) | ` +
        `${pct(rawUp)} / ${pct(rawDown)} (${pct(ceiling('transparent', bytes, baud, d))}) | ${took} |`,
      turns: `| ${baud} | ${latency} | ${upRun.turns} | ${downRun.turns} |`,
    };
  } finally {
    await modem.close();
    await host.stop();
  }
}

describe('goodput on a paced line, through usocket/ussl', () => {
  benchOnce('share of the line, each way, buffer and push mode', async () => {
    const out = [
      'goodput as a share of the line (baud/10 bytes/s), module in a child process; the protocol\'s ceiling in brackets',
      `(sizes: ${size(SIZE_921600)} each way at 921600, ${size(SIZE_115200)} at 115200` +
        `${SIZE_115200 < MiB ? ': 1 MiB takes 91 s per figure there, BENCH_GOODPUT_SIZE_115200=1MiB for it' : ''}; ` +
        'the baselines, AT+QFUPL and the same commands in a plain modem.send loop, move a quarter; receive is timed from the request\'s SEND OK)',
      '| baud | latency | each way | baseline: AT+QFUPL raw data | baseline: AT+QSSLSEND loop | send, usocket | baseline: AT+QSSLRECV loop | receive, usocket, buffer mode | receive, usocket, push mode | transparent mode, send / receive | row took |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    ];
    const turns = [
      'one buffer-mode exchange, median ms: from command to command = the line time of its bytes + the library\'s own turnaround ' +
        '(`>` to payload and result to next command) + the rest (the module, the link, waking each side)',
      '| baud | latency | AT+QSSLSEND of 1460 B | AT+QSSLRECV of 1500 B |',
      '|---|---|---|---|',
    ];
    for (const baud of BAUDS) {
      for (const latency of LATENCIES) {
        const r = await row(baud, latency);
        out.push(r.goodput);
        turns.push(r.turns);
      }
    }
    return [...out, '', ...turns];
  });
});
