/**
 * Goodput of the three access modes through the public API (`wrap_socket` … `sendall` / `read`), over a virtual EC25
 * paced at 921600 baud (BENCH_BAUD) with latency profile `none` (BENCH_LATENCY: `bg96` adds its delays):
 *
 *   buffer       receive: 'buffer'       AT+QSSLSEND of 1460 bytes up, AT+QSSLRECV of 1500 down (the default)
 *   push         receive: 'push'         AT+QSSLSEND up, `+QSSLURC: "recv",0,<n>` and the bytes down, no read command
 *   transparent  receive: 'transparent'  the serial line is the TLS stream: raw bytes both ways
 *
 * Up: from `sendall` until a TLS sink behind the module has every byte. Down: from the request to a TLS source
 * until `read` has every byte. Each figure is the share of the line (baud/10 bytes per second), printed next to what
 * the protocol's own bytes allow (commands, prompts, result codes and framing count against it). BENCH_MODES_SIZE
 * sets the bytes each way (default 1 MiB). Transparent mode's open and close (with the real 1 s guard times of its
 * escape) are timed apart from the transfer.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { VirtualModule, type LatencyProfileName } from '../src/emulator/index.js';
import { Modem } from '../src/index.js';
import type { ReceiveMode } from '../src/modem/services/Connection.js';
import { makePki } from '../test/helpers/pki.js';

const BAUD = Number(process.env.BENCH_BAUD ?? 921_600);
const LATENCY = (process.env.BENCH_LATENCY ?? 'none') as LatencyProfileName;
const SIZE = Number(process.env.BENCH_MODES_SIZE ?? 1024 * 1024);
const capacity = BAUD / 10;
const data = Buffer.alloc(SIZE, 0x5a);

let server: Server;
let module: VirtualModule;
let modem: Modem;
/** The sink's byte count for the connection being measured, and who waits for it to reach SIZE. */
let sunk = 0;
let sinkDone: (() => void) | undefined;
const results: Array<{ mode: ReceiveMode; up: number; down: number; upCeiling: number; downCeiling: number; openMs: number; closeMs: number }> = [];

/** Share of the line the protocol's bytes allow for `SIZE` bytes one way (echo off). */
function ceiling(mode: ReceiveMode, dir: 'up' | 'down'): number {
  const { commandMs, promptMs, sendOkMs } = module.latency;
  const lineMs = (bytes: number): number => (bytes * 10_000) / BAUD;
  if (mode === 'transparent') return 1;
  let bytes = 0;
  let delayMs = 0;
  const pieces = (max: number) => Array.from({ length: Math.ceil(SIZE / max) }, (_, i) => Math.min(max, SIZE - i * max));
  if (dir === 'up') {
    for (const c of pieces(1460)) bytes += `AT+QSSLSEND=0,${c}\r`.length + 4 + c + '\r\nSEND OK\r\n'.length;
    delayMs = pieces(1460).length * (commandMs + promptMs + sendOkMs);
  } else if (mode === 'buffer') {
    for (const c of pieces(1500)) bytes += 'AT+QSSLRECV=0,1500\r'.length + `\r\n+QSSLRECV: ${c}\r\n`.length + c + 8;
    bytes += 'AT+QSSLRECV=0,1500\r'.length + '\r\n+QSSLRECV: 0\r\n\r\nOK\r\n'.length; // the read that finds it empty
    delayMs = (pieces(1500).length + 1) * commandMs;
  } else {
    for (const c of pieces(1500)) bytes += `\r\n+QSSLURC: "recv",0,${c}\r\n`.length + c + 2;
  }
  return lineMs(SIZE) / (lineMs(bytes) + delayMs);
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

async function measure(mode: ReceiveMode): Promise<void> {
  let t = performance.now();
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: mode });
  await s.connect(['bench.test', 443]);
  const openMs = performance.now() - t;

  // Up: everything to the sink.
  sunk = 0;
  const sunkAll = new Promise<void>((r) => (sinkDone = r));
  await s.sendall(`SINK ${SIZE}\n`);
  await new Promise((r) => setTimeout(r, 50));
  t = performance.now();
  await s.sendall(data);
  await sunkAll;
  const upMs = performance.now() - t;

  // Down: ask the peer for SIZE bytes and read them.
  t = performance.now();
  await s.sendall(`SOURCE ${SIZE}\n`);
  const got = await s.read(SIZE);
  const downMs = performance.now() - t;
  if (got.length !== SIZE) throw new Error(`read ${got.length} of ${SIZE} bytes`);

  t = performance.now();
  await s.close();
  const closeMs = performance.now() - t;
  const up = SIZE / (upMs / 1000) / capacity;
  const down = SIZE / (downMs / 1000) / capacity;
  results.push({ mode, up, down, upCeiling: ceiling(mode, 'up'), downCeiling: ceiling(mode, 'down'), openMs, closeMs });
  console.log(`${mode}: up ${SIZE} bytes in ${upMs.toFixed(0)} ms = ${pct(up)} of the line (protocol allows ${pct(ceiling(mode, 'up'))}); ` +
    `down in ${downMs.toFixed(0)} ms = ${pct(down)} (allows ${pct(ceiling(mode, 'down'))}); open ${openMs.toFixed(0)} ms, close ${closeMs.toFixed(0)} ms`);
}

beforeAll(async () => {
  const pki = await makePki();
  // Requests, one a line: `SINK <n>` counts the n bytes that follow; `SOURCE <n>` sends n bytes.
  server = createServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (sock: TLSSocket) => {
    let sinking = 0;
    let head = '';
    sock.on('data', (d: Buffer) => {
      let rest = d;
      while (rest.length > 0) {
        if (sinking > 0) {
          const n = Math.min(sinking, rest.length);
          sinking -= n;
          sunk += n;
          rest = rest.subarray(n);
          if (sinking === 0) sinkDone?.();
          continue;
        }
        const nl = rest.indexOf(0x0a);
        if (nl < 0) {
          head += rest.toString('latin1');
          return;
        }
        const cmd = head + rest.subarray(0, nl).toString('latin1');
        head = '';
        rest = rest.subarray(nl + 1);
        if (cmd.startsWith('SINK ')) sinking = Number(cmd.slice(5));
        else if (cmd.startsWith('SOURCE ')) sock.write(Buffer.alloc(Number(cmd.slice(7)), 0x33));
      }
    });
    sock.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  // Real guard times (1 s) in module and library alike.
  module = new VirtualModule({ model: 'EC25', baud: BAUD, latency: LATENCY, hosts: { 'bench.test': `127.0.0.1:${port}` } });
  modem = await Modem.open(module, { dataModeUrcPort: 'usbmodem' });
}, 60_000);

afterAll(async () => {
  await modem?.close();
  module?.dispose();
  await new Promise<void>((r) => server.close(() => r()));
  console.log(`\n${SIZE} bytes each way, virtual EC25 at ${BAUD} baud, latency profile ${LATENCY}; share of the line (baud/10 B/s)`);
  console.log('| mode | runs | up | protocol allows | down | protocol allows | open | close |');
  console.log('|---|---|---|---|---|---|---|---|');
  const range = (xs: number[], f: (x: number) => string) => (Math.min(...xs) === Math.max(...xs) ? f(xs[0]!) : `${f(Math.min(...xs))}–${f(Math.max(...xs))}`);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  for (const mode of ['buffer', 'push', 'transparent'] as const) {
    const rs = results.filter((r) => r.mode === mode);
    if (rs.length === 0) continue;
    console.log(`| ${mode} | ${rs.length} | ${range(rs.map((r) => r.up), pct)} | ${pct(rs[0]!.upCeiling)} | ${range(rs.map((r) => r.down), pct)} | ` +
      `${pct(rs[0]!.downCeiling)} | ${range(rs.map((r) => r.openMs), ms)} | ${range(rs.map((r) => r.closeMs), ms)} |`);
  }
});

describe(`${SIZE} bytes each way through wrap_socket, virtual EC25 at ${BAUD} baud, latency profile ${LATENCY}`, () => {
  for (const mode of ['buffer', 'push', 'transparent'] as const) {
    bench(mode, () => measure(mode), { iterations: 1, time: 0, warmupIterations: 0 });
  }
});
