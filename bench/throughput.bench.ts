/**
 * How close the AT path gets to the serial line's limit. A virtual module paced at a UART speed moves 32 KiB:
 *
 *   baseline     AT+QFUPL data mode: one command, then raw bytes (the most a line can carry with AT around it)
 *   QSSLSEND     the TLS send path: 1460-byte chunks, each with its command, prompt and SEND OK
 *   QSSLRECV     the TLS receive path: 1500-byte reads after the recv URC, each with its command and framing
 *
 * vitest prints each one's mean time and how they compare; the line after each run gives bytes per second and the
 * share of the line's capacity (baud/10 bytes per second). BENCH_BAUD sets the speed (default 921600) and
 * BENCH_LATENCY a latency profile of the module (`bg96`: its prompt, SEND OK and open delays; default `none`).
 */
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { VirtualModule, type LatencyProfileName } from '../src/emulator/index.js';
import { Modem } from '../src/modem/Modem.js';
import { makePki } from '../test/helpers/pki.js';

const BAUD = Number(process.env.BENCH_BAUD ?? 921_600);
const LATENCY = (process.env.BENCH_LATENCY ?? 'none') as LatencyProfileName;
const SIZE = 32 * 1024;
const data = Buffer.alloc(SIZE, 0x5a);
const capacity = BAUD / 10;

let server: Server;
let module: VirtualModule;
let modem: Modem;
let files = 0;

/** Chunk sizes `total` bytes are cut into, `max` at a time. */
const chunks = (total: number, max: number): number[] =>
  Array.from({ length: Math.ceil(total / max) }, (_, i) => Math.min(max, total - i * max));

/**
 * Every byte each path puts on the line (echo off), and the module delays of the latency profile it waits through:
 * the share of the line those allow, if nothing else took time. Anything below it is time the host or the module
 * spent between bytes.
 */
function ceiling(what: string): number {
  const { commandMs, promptMs, sendOkMs } = module.latency;
  const lineMs = (bytes: number): number => (bytes * 10_000) / BAUD;
  let bytes = 0;
  let delayMs = 0;
  if (what === 'QFUPL') {
    bytes = `AT+QFUPL="b0.bin",${SIZE},10\r`.length + '\r\nCONNECT\r\n'.length + SIZE + `+QFUPL: ${SIZE},ffff\r\n`.length + 6;
    delayMs = commandMs;
  } else if (what === 'QSSLSEND') {
    for (const c of chunks(SIZE, 1460)) bytes += `AT+QSSLSEND=0,${c}\r`.length + 4 + c + '\r\nSEND OK\r\n'.length;
    delayMs = chunks(SIZE, 1460).length * (commandMs + promptMs + sendOkMs);
  } else {
    for (const c of chunks(SIZE, 1500)) bytes += 'AT+QSSLRECV=0,1500\r'.length + `\r\n+QSSLRECV: ${c}\r\n`.length + c + 8;
    delayMs = chunks(SIZE, 1500).length * commandMs;
  }
  return lineMs(SIZE) / (lineMs(bytes) + delayMs);
}

function report(what: string, ms: number): void {
  const rate = (SIZE / ms) * 1000;
  console.log(`${what}: ${SIZE} bytes in ${ms.toFixed(0)} ms = ${(rate / 1024).toFixed(1)} KiB/s, ${((rate / capacity) * 100).toFixed(1)} % ` +
    `of ${BAUD} baud (${LATENCY === 'none' ? 'the line allows' : 'the line and the module\'s delays allow'} ${(ceiling(what) * 100).toFixed(1)} %)`);
}

beforeAll(async () => {
  const pki = await makePki();
  // Echoes nothing back: the send benchmark measures sending only; the receive one asks for data explicitly.
  server = createServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (s) => {
    s.on('data', (d: Buffer) => {
      if (d.toString('latin1').startsWith('SEND ')) s.write(Buffer.alloc(Number(d.toString('latin1').slice(5)), 0x33));
    });
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  // An unknown BENCH_LATENCY fails here with the known names.
  module = new VirtualModule({ model: 'EC25', baud: BAUD, latency: LATENCY, hosts: { 'bench.test': `127.0.0.1:${port}` } });
  modem = await Modem.open(module);
  await modem.send('AT+QSSLOPEN=1,1,0,"bench.test",443,0', { lateResult: { prefix: '+QSSLOPEN: 0,', timeoutMs: 10_000 } });
}, 60_000);

afterAll(async () => {
  await modem?.close();
  module?.dispose();
  await new Promise<void>((r) => server.close(() => r()));
});

describe(`32 KiB over a virtual EC25 paced at ${BAUD} baud, latency profile ${LATENCY}`, () => {
  bench('baseline: AT+QFUPL raw data mode', async () => {
    const t0 = performance.now();
    const name = `b${files++}.bin`;
    await modem.send(`AT+QFUPL="${name}",${SIZE},10`, { payload: data, payloadAfter: 'connect', expect: ['+QFUPL:'] });
    report('QFUPL', performance.now() - t0);
    await modem.send(`AT+QFDEL="${name}"`);
  }, { iterations: 3, time: 0, warmupIterations: 0 });

  bench('QSSLSEND in 1460-byte chunks', async () => {
    const t0 = performance.now();
    for (let off = 0; off < SIZE; off += 1460) {
      const chunk = data.subarray(off, off + 1460);
      await modem.send(`AT+QSSLSEND=0,${chunk.length}`, { payload: chunk });
    }
    report('QSSLSEND', performance.now() - t0);
  }, { iterations: 3, time: 0, warmupIterations: 0 });

  bench('QSSLRECV in 1500-byte reads', async () => {
    const recv = new Promise<void>((r) => {
      const off = modem.at.onUrc('+QSSLURC: "recv",0', () => {
        off();
        r();
      });
    });
    const ask = Buffer.from(`SEND ${SIZE}`);
    await modem.send(`AT+QSSLSEND=0,${ask.length}`, { payload: ask });
    await recv;
    await new Promise((r) => setTimeout(r, 50)); // let the TLS peer's bytes reach the module's buffer
    const t0 = performance.now();
    let got = 0;
    while (got < SIZE) {
      const r = await modem.send('AT+QSSLRECV=0,1500', { dataPrefix: '+QSSLRECV:', expect: ['+QSSLRECV:'] });
      got += r.data.length;
    }
    report('QSSLRECV', performance.now() - t0);
  }, { iterations: 3, time: 0, warmupIterations: 0 });
});
