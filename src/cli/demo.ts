/**
 * `ussl-bridge demo`: a virtual module brought up by the library's Modem (connection machine, AT engine) through
 * the serialport stack, then real TLS to a server on loopback: upload the CA through AT+QFUPL (size and checksum
 * verified), configure an SSL context from the capabilities the module lists, open, send, receive, close. The AT
 * trace is printed as it happens; payloads and file contents appear as sizes only.
 */
import { createServer, type Server } from 'node:tls';
import type { AtTraceEvent } from '../at/AtEngine.js';
import { VirtualModule, type ModelName } from '../emulator/index.js';
import { Modem } from '../modem/Modem.js';
import { formatChecksum, quectelChecksum } from '../protocol/checksum.js';
import { makeDemoPki } from '../emulator/index.js';

const DEMO_HOST = 'demo.ussl.test';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Default: `'EC25'`. */
  readonly model?: ModelName;
  /** Where lines go. Default: `console.log`. */
  readonly print?: (line: string) => void;
}

function traceLine(t0: number, e: AtTraceEvent): string {
  const ms = `${(e.at - t0).toFixed(1).padStart(7)} ms`;
  const arrow = e.dir === 'out' ? '→' : '←';
  if (e.kind === 'payload') return `${ms} ${arrow} [${e.length} bytes, redacted]`;
  if (e.kind === 'data') return `${ms} ${arrow} ${e.text ?? ''} [${e.length} bytes, redacted]`;
  return `${ms} ${arrow} ${e.text ?? ''}`;
}

/** Runs the demonstration; resolves when everything is closed again. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const print = options.print ?? ((l: string) => console.log(l));
  const model = options.model ?? 'EC25';
  const pki = await makeDemoPki([DEMO_HOST]);
  const { cert, key } = pki.server;
  const server: Server = createServer({ cert, key }, (s) => {
    s.on('data', (d: Buffer) => s.write(`HTTP/1.0 200 OK\r\nContent-Length: ${d.length}\r\n\r\n${d.toString('latin1')}`));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const module = new VirtualModule({ model, hosts: { [DEMO_HOST]: `127.0.0.1:${port}` } });
  const t0 = performance.now();
  print(`ussl-bridge demo: a virtual ${model} behind serialport, real TLS to ${DEMO_HOST} (127.0.0.1:${port})`);
  const modem = await Modem.open(module, { apn: { apn: 'internet' }, at: { trace: (e) => print(traceLine(t0, e)) } }).catch(async (e: unknown) => {
    module.dispose();
    await new Promise<void>((r) => server.close(() => r()));
    throw e;
  });
  try {
    print(`-- ready: ${modem.info.model} ${modem.info.firmware}, address ${modem.ip}, URCs on ${modem.urcPort ?? 'the only port'}`);
    const ca = Buffer.from(pki.ca.cert);
    await modem.send('AT+QFDEL="demo_ca.pem"').catch(() => undefined);
    const up = await modem.send(`AT+QFUPL="demo_ca.pem",${ca.length},10`, { payload: ca, payloadAfter: 'connect', expect: ['+QFUPL:'] });
    const expected = `+QFUPL: ${ca.length},${formatChecksum(quectelChecksum(ca))}`;
    if (up.lines[0] !== expected) throw new Error(`upload check failed: ${up.lines[0]} instead of ${expected}`);
    print(`-- checksum verified: ${expected}`);
    // Capability detection (§8.2): BG96 V1.0 firmware has no sni.
    const settings = ['"sslversion",1,4', '"ciphersuite",1,0XFFFF', '"seclevel",1,1', '"cacert",1,"demo_ca.pem"'];
    if (modem.info.sslParams.includes('sni')) settings.push('"sni",1,1');
    else print('-- this firmware has no sni parameter: the server gets no SNI');
    for (const s of settings) await modem.send(`AT+QSSLCFG=${s}`);
    const opened = await modem.send(`AT+QSSLOPEN=1,1,0,"${DEMO_HOST}",443,0`, { lateResult: { prefix: '+QSSLOPEN: 0,', timeoutMs: 30_000 } });
    if (opened.late !== '+QSSLOPEN: 0,0') throw new Error(`the TLS open failed: ${opened.late}`);
    const recv = new Promise<void>((resolve) => modem.at.onUrc('+QSSLURC: "recv",0', () => resolve()));
    const request = Buffer.from(`GET / HTTP/1.0\r\nHost: ${DEMO_HOST}\r\n\r\n`);
    await modem.send(`AT+QSSLSEND=0,${request.length}`, { payload: request });
    await recv;
    const r = await modem.send('AT+QSSLRECV=0,1500', { dataPrefix: '+QSSLRECV:', expect: ['+QSSLRECV:'] });
    print(`-- received ${r.data.length} bytes; status line: ${Buffer.from(r.data).toString('latin1').split('\r\n')[0]}`);
    await modem.send('AT+QSSLCLOSE=0');
    print(`-- done in ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    await modem.close();
    module.dispose();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
