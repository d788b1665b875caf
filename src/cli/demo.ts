/**
 * `ussl-bridge demo`: a virtual module behind the whole serialport stream stack, doing real TLS to a server on
 * loopback: boot, identify, upload the CA through AT+QFUPL (size and checksum verified), configure an SSL context,
 * open, send, receive, close. Payloads and file contents are shown as sizes only.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { promisify } from 'node:util';
import { SerialPortStream } from '@serialport/stream';
import { createEmulatorBinding, RawAtSession, VirtualModule, type ModelName } from '../emulator/index.js';
import { formatChecksum, quectelChecksum } from '../protocol/checksum.js';

const DEMO_HOST = 'demo.ussl.test';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Default: `'EC25'`. */
  readonly model?: ModelName;
  /** Where lines go. Default: `console.log`. */
  readonly print?: (line: string) => void;
}

async function demoCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ussl-demo-'));
  try {
    // RSA, because the BG96 suites (0XFFFF there means its 13) all authenticate with RSA.
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', `/CN=${DEMO_HOST}`,
      '-addext', `subjectAltName=DNS:${DEMO_HOST}`]);
    return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
  } catch (e) {
    throw new Error(`the demo makes its server certificate with the openssl command, which failed: ${(e as Error).message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the demonstration; resolves when everything is closed again. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const print = options.print ?? ((l: string) => console.log(l));
  const model = options.model ?? 'EC25';
  const { cert, key } = await demoCertificate();
  const server: Server = createServer({ cert, key }, (s) => {
    s.on('data', (d: Buffer) => s.write(`HTTP/1.0 200 OK\r\nContent-Length: ${d.length}\r\n\r\n${d.toString('latin1')}`));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const module = new VirtualModule({ model, hosts: { [DEMO_HOST]: `127.0.0.1:${port}` } });
  const serial = new SerialPortStream({ binding: createEmulatorBinding(module), path: `emulator:${model}`, baudRate: 115_200 });
  const at = new RawAtSession({ write: (b) => serial.write(b), onData: (l) => serial.on('data', l) });
  const t0 = performance.now();
  const step = async (command: string, payload?: Uint8Array, shown?: string) => {
    const t = performance.now();
    const r = await at.send(command, payload);
    const info = r.lines.slice(0, -1).filter((l) => !/^\+QSSLRECV/.test(l)).join(' | ');
    print(`  ${command.padEnd(44)} ${r.final.padEnd(8)} ${(performance.now() - t).toFixed(1).padStart(6)} ms` +
      `${info ? `  ${info}` : ''}${shown ? `  [${shown}]` : ''}`);
    if (r.final !== 'OK' && r.final !== 'SEND OK') throw new Error(`${command} answered ${r.final}`);
    return r;
  };
  try {
    print(`ussl-bridge demo: a virtual ${model} behind serialport, real TLS to ${DEMO_HOST} (127.0.0.1:${port})`);
    await at.waitUrc(/^RDY$/);
    print('  <- RDY (boot banner)');
    for (const c of ['ATE0', 'AT+CMEE=1', 'ATI', 'AT+CPIN?', 'AT+CEREG?', 'AT+QICSGP=1,1,"internet","","",1', 'AT+QIACT=1', 'AT+QIACT?']) {
      await step(c);
    }
    const ca = Buffer.from(cert);
    await at.send('AT+QFDEL="demo_ca.pem"');
    const up = await step(`AT+QFUPL="demo_ca.pem",${ca.length},10`, ca, `${ca.length} bytes of certificate`);
    const expected = `+QFUPL: ${ca.length},${formatChecksum(quectelChecksum(ca))}`;
    if (up.lines[0] !== expected) throw new Error(`upload check failed: ${up.lines[0]} instead of ${expected}`);
    print(`  checksum verified: ${expected}`);
    // Capability detection (§8.2): the test form lists the parameters this firmware has; BG96 V1.0 has no sni.
    const caps = await at.send('AT+QSSLCFG=?');
    const params = caps.lines.map((l) => /^\+QSSLCFG: "(\w+)"/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
    print(`  AT+QSSLCFG=?  lists ${params.length} parameters${params.includes('sni') ? '' : ' (no sni: the server gets no SNI)'}`);
    const settings = ['"sslversion",1,4', '"ciphersuite",1,0XFFFF', '"seclevel",1,1', '"cacert",1,"demo_ca.pem"'];
    if (params.includes('sni')) settings.push('"sni",1,1');
    for (const c of settings) await step(`AT+QSSLCFG=${c}`);
    await step(`AT+QSSLOPEN=1,1,0,"${DEMO_HOST}",443,0`);
    const opened = await at.waitUrc(/^\+QSSLOPEN: 0,/);
    print(`  <- ${opened}`);
    if (opened !== '+QSSLOPEN: 0,0') throw new Error(`the TLS open failed: ${opened}`);
    const request = Buffer.from(`GET / HTTP/1.0\r\nHost: ${DEMO_HOST}\r\n\r\n`);
    await step(`AT+QSSLSEND=0,${request.length}`, request, `${request.length} bytes of payload`);
    print(`  <- ${await at.waitUrc(/^\+QSSLURC: "recv",0$/)}`);
    const r = await step('AT+QSSLRECV=0,1500', undefined, 'payload redacted');
    print(`  received ${r.data.length} bytes; status line: ${r.data.toString('latin1').split('\r\n')[0]}`);
    await step('AT+QSSLCLOSE=0');
    print(`done in ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    await new Promise<void>((r) => (serial.isOpen ? serial.close(() => r()) : r()));
    module.dispose();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
