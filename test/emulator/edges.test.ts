/**
 * Edges found in review: an open given up mid-way, a peer that resets during the handshake latency, per-module
 * state that must reset at boot, QIGETERROR's "last command" rule, trust anchors, and reboot timing.
 */
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, afterEach, expect, test } from 'vitest';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { ModuleTap } from '../helpers/ModuleTap.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
}, 60_000);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => undefined);

async function session(options: VirtualModuleOptions = {}): Promise<{ m: VirtualModule; at: RawAtSession }> {
  const m = new VirtualModule({ model: 'EC25', ...options });
  cleanups.push(() => m.dispose());
  const at = new RawAtSession(linkOf(m));
  await at.waitLines(['RDY', ...m.bootUrcs]);
  await at.send('ATE0');
  await at.send('AT+QIACT=1');
  return { m, at };
}

async function listen(onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

test('dispose() gives up an open still in its handshake: the peer sees the connection close', async () => {
  let peerClosed!: Promise<void>;
  const port = await listen((s) => {
    s.resume(); // silent TLS peer: reads, never answers
    peerClosed = new Promise((r) => s.on('close', () => r()));
  });
  const { m, at } = await session();
  await at.send(`AT+QSSLOPEN=1,1,0,"127.0.0.1",${port},0`);
  while (!peerClosed) await new Promise((r) => setTimeout(r, 5));
  m.dispose();
  await peerClosed;
});

test('a peer that resets during the handshake latency is a failed open, not a crash or a ghost connection', async () => {
  const server = createTlsServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (s) => {
    s.on('error', () => {});
    setTimeout(() => s.destroy(), 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const { at } = await session({ latency: { handshakeMs: 200 } });
  await at.send(`AT+QSSLOPEN=1,1,0,"127.0.0.1",${(server.address() as { port: number }).port},0`);
  expect(await at.waitUrc(/^\+QSSLOPEN: 0,/)).toBe('+QSSLOPEN: 0,566');
  expect((await at.send('AT+QSSLSTATE')).lines).toEqual(['OK']);
});

test('AT+CREG=<n> belongs to one module and is reset by a reboot', async () => {
  const a = await session({ boot: { rebootSilenceMs: 20 } });
  await a.at.send('AT+CREG=2');
  expect((await a.at.send('AT+CREG?')).lines[0]).toBe('+CREG: 2,1');
  const b = await session();
  expect((await b.at.send('AT+CREG?')).lines[0]).toBe('+CREG: 0,1');
  await a.at.send('AT+CFUN=1,1');
  await a.at.waitUrc(/^RDY$/);
  await a.at.send('ATE0');
  expect((await a.at.send('AT+CREG?')).lines[0]).toBe('+CREG: 0,1');
});

test('AT+QIGETERROR reports the last TCP/IP or SSL command; a bad QSSLCFG value is 552', async () => {
  const { at } = await session();
  expect((await at.send('AT+QSSLSEND=3,5')).final).toBe('ERROR');
  expect((await at.send('AT+QIGETERROR')).lines[0]).toBe('+QIGETERROR: 567,socket has been closed');
  await at.send('AT+QSSLCFG="seclevel",1,0');
  expect((await at.send('AT+QIGETERROR')).lines[0]).toBe('+QIGETERROR: 0,operate successfully');
  expect((await at.send('AT+QSSLCFG="sslversion",1,9')).final).toBe('ERROR');
  expect((await at.send('AT+QIGETERROR')).lines[0]).toBe('+QIGETERROR: 552,invalid parameters');
});

test('a trusted leaf certificate is not a trust anchor: seclevel 1 with the server\'s own leaf as CA fails', async () => {
  const server = createTlsServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const { at } = await session({ files: { 'leaf.pem': pki.serverRsa.cert } });
  await at.send('AT+QSSLCFG="seclevel",1,1');
  await at.send('AT+QSSLCFG="cacert",1,"leaf.pem"');
  await at.send(`AT+QSSLOPEN=1,1,0,"127.0.0.1",${(server.address() as { port: number }).port},0`);
  expect(await at.waitUrc(/^\+QSSLOPEN: 0,/)).toBe('+QSSLOPEN: 0,566');
});

test('failOpensAfter counts successful opens only', async () => {
  const port = await listen((s) => s.resume());
  const { m, at } = await session();
  m.faults.failOpensAfter(1);
  await at.send('AT+QIOPEN=1,0,"TCP","127.0.0.1",1,0,0');
  expect(await at.waitUrc(/^\+QIOPEN: 0,/)).toBe('+QIOPEN: 0,566');
  await at.send(`AT+QIOPEN=1,1,"TCP","127.0.0.1",${port},0,0`);
  expect(await at.waitUrc(/^\+QIOPEN: 1,/)).toBe('+QIOPEN: 1,0');
  await at.send(`AT+QIOPEN=1,2,"TCP","127.0.0.1",${port},0,0`);
  expect(await at.waitUrc(/^\+QIOPEN: 2,/)).toBe('+QIOPEN: 2,552');
});

test('after the OK of AT+CFUN=1,1 the module takes no more commands; S registers are accepted', async () => {
  const m = new VirtualModule({ model: 'BG96', boot: { rebootSilenceMs: 30 } });
  cleanups.push(() => m.dispose());
  const tap = new ModuleTap(m);
  await tap.booted();
  await tap.command('ATE0');
  expect(await tap.command('ATS0=0')).toBe('\r\nOK\r\n');
  tap.write('AT+CFUN=1,1\rATI\r');
  const r = (await tap.until('POWERED DOWN\r\n')).toString('latin1');
  expect(r).toBe('\r\nOK\r\n\r\nPOWERED DOWN\r\n');
  await tap.booted();
  expect(tap.pending.toString('latin1')).not.toContain('Quectel');
});

test('an upload that times out with no byte at all leaves no file', async () => {
  const m = new VirtualModule({ model: 'BG96' });
  cleanups.push(() => m.dispose());
  const tap = new ModuleTap(m);
  await tap.booted();
  await tap.command('ATE0');
  tap.write('AT+QFUPL="e.txt",10,1\r');
  await tap.until('CONNECT\r\n');
  expect((await tap.until('421\r\n', 3000)).toString('latin1')).toBe('+QFUPL: 0,0\r\n\r\n+CME ERROR: 421\r\n');
  expect(await tap.command('AT+QFLST')).toBe('\r\n+QFLST: "security/",2\r\n\r\nOK\r\n');
});
