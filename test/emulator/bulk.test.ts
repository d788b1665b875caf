/**
 * One MiB of random bytes, salted with text a line parser would trip on, through AT+QSSLSEND/AT+QSSLRECV to a
 * Node TLS echo server and back, compared by SHA-256: over the in-process serialport binding, and over a socat
 * pseudo-terminal opened with serialport's native binding.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { expect, test } from 'vitest';
import { VirtualModule, createEmulatorBinding, servePty } from '../../src/emulator/index.js';
import { RawAtSession, type ByteLink } from '../../src/emulator/RawAtSession.js';
import { useTlsEchoServer } from '../helpers/tlsPeers.js';

const MiB = 1024 * 1024;
const TRAPS = ['\r\nOK\r\n', '\r\nERROR\r\n', '+QSSLURC: "closed",0\r\n', '\r\n> ', '+QSSLRECV: 5\r\n', '\x1a', '\x1b'];

function payload(): Buffer {
  const data = randomBytes(MiB);
  TRAPS.forEach((t, i) => data.write(t, 1000 + i * 150_000, 'latin1'));
  return data;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Sends `data` in 1460-byte chunks, reading whenever the module signals data, until all of it came back. */
async function roundTrip(at: RawAtSession, data: Buffer): Promise<Buffer> {
  const back: Buffer[] = [];
  let got = 0;
  const drain = async () => {
    for (;;) {
      const r = await at.send('AT+QSSLRECV=0,1500');
      expect(r.final).toBe('OK');
      if (r.data.length === 0) return;
      back.push(r.data);
      got += r.data.length;
    }
  };
  for (let off = 0; off < data.length; off += 1460) {
    const chunk = data.subarray(off, off + 1460);
    expect((await at.send(`AT+QSSLSEND=0,${chunk.length}`, chunk)).final).toBe('SEND OK');
    if (at.hasUrc(/^\+QSSLURC: "recv",0$/)) {
      await at.waitUrc(/^\+QSSLURC: "recv",0$/);
      await drain();
    }
  }
  while (got < data.length) {
    await at.waitUrc(/^\+QSSLURC: "recv",0$/, 20_000);
    await drain();
  }
  return Buffer.concat(back);
}

const peer = useTlsEchoServer();

async function openSession(link: ByteLink): Promise<RawAtSession> {
  const at = new RawAtSession(link);
  await at.waitUrc(/^RDY$/);
  for (const c of ['ATE0', 'AT+QIACT=1', 'AT+QSSLCFG="sslversion",1,4', 'AT+QSSLOPEN=1,1,0,"echo.test",443,0']) {
    expect((await at.send(c)).final, c).toBe('OK');
  }
  expect(await at.waitUrc(/^\+QSSLOPEN: 0,/)).toBe('+QSSLOPEN: 0,0');
  return at;
}

test('1 MiB through the in-process serialport binding is identical by SHA-256', async () => {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${peer.server.port}` } });
  const port = new SerialPortStream({ binding: createEmulatorBinding(module), path: 'emulator:EC25', baudRate: 115_200 });
  try {
    const at = await openSession({ write: (b) => port.write(b), onData: (l) => port.on('data', l) });
    const data = payload();
    const t0 = performance.now();
    const back = await roundTrip(at, data);
    const ms = performance.now() - t0;
    console.log(`in-process binding: 1 MiB each way in ${ms.toFixed(0)} ms`);
    expect(back.length).toBe(MiB);
    expect(sha(back)).toBe(sha(data));
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
    module.dispose();
  }
}, 120_000);

test('1 MiB over a socat pty with the native binding is identical by SHA-256', async () => {
  const module = new VirtualModule({ model: 'BG96', hosts: { 'echo.test': `127.0.0.1:${peer.server.port}` } });
  const dir = mkdtempSync(join(tmpdir(), 'ussl-bulk-'));
  const served = await servePty(module, join(dir, 'ttyV0'));
  const port = new SerialPort({ path: served.url, baudRate: 115_200 });
  try {
    await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
    const at = await openSession({ write: (b) => port.write(b), onData: (l) => port.on('data', l) });
    const data = payload();
    const t0 = performance.now();
    const back = await roundTrip(at, data);
    console.log(`socat pty: 1 MiB each way in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(sha(back)).toBe(sha(data));
  } finally {
    await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
    await served.close();
    module.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
