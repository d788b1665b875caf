/**
 * The module services on a virtual module: files, DNS, TCP and TLS connections with their URC-driven receive,
 * SSL contexts. Each asserts what the ussl layer relies on, counted in AT commands where cost matters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { isQuectelError, type QuectelErrorCode } from '../../src/errors.js';
import { Modem } from '../../src/modem/Modem.js';
import type { ModemOptions } from '../../src/modem/ModemOptions.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

const code = (c: QuectelErrorCode) => (e: unknown) => isQuectelError(e, c);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let pki: Pki;
let tlsEcho: TlsEchoServer;
let tcpEcho: Server;
let tcpPort: number;
beforeAll(async () => {
  pki = await makePki();
  tlsEcho = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  tcpEcho = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
  tcpPort = (tcpEcho.address() as { port: number }).port;
});
afterAll(async () => {
  await tlsEcho.close();
  await new Promise<void>((r) => tcpEcho.close(() => r()));
});

async function modem(options: VirtualModuleOptions = {}, modemOptions: ModemOptions = {}): Promise<{ modem: Modem; module: VirtualModule; commands: string[] }> {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${tlsEcho.port}` }, ...options });
  const commands: string[] = [];
  const m = await Modem.open(module, { ...modemOptions, at: { ...modemOptions.at, trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
  cleanups.push(() => module.dispose(), () => m.close());
  commands.length = 0;
  return { modem: m, module, commands };
}

describe('files', () => {
  test('upload checks size and checksum, list and stat see it, download returns the same bytes, delete removes it', async () => {
    const { modem: m } = await modem();
    const data = Buffer.concat([Buffer.from('-----BEGIN CERTIFICATE-----\n'), randomBytes(3000), Buffer.from('\r\n+QFDWL: 12,1\r\n')]);
    expect(await m.files.upload('blob.bin', data)).toEqual({ name: 'blob.bin', size: data.length });
    expect(await m.files.list()).toContainEqual({ name: 'blob.bin', size: data.length });
    expect(await m.files.stat('blob.bin')).toEqual({ name: 'blob.bin', size: data.length });
    expect(await m.files.stat('none.bin')).toBeUndefined();
    expect((await m.files.download('blob.bin')).equals(data)).toBe(true);
    expect(await m.files.delete('blob.bin')).toBe(true);
    expect(await m.files.delete('blob.bin')).toBe(false);
    await expect(m.files.download('blob.bin')).rejects.toSatisfy(code('FILE_NOT_FOUND'));
    const space = await m.files.space();
    expect(space.free).toBeGreaterThan(0);
    expect(space.total).toBeGreaterThanOrEqual(space.free);
  });

  test('an existing file is replaced, not refused (QFDEL first, §6.1)', async () => {
    const { modem: m } = await modem();
    await m.files.upload('a.txt', Buffer.from('first'));
    await m.files.upload('a.txt', Buffer.from('second!'));
    expect((await m.files.download('a.txt')).toString()).toBe('second!');
  });

  test('knownAbsent skips the QFDEL; when the file exists after all (407) it is deleted and the upload repeated', async () => {
    const { modem: m, commands } = await modem();
    await m.files.upload('b.txt', Buffer.from('new'), { knownAbsent: true });
    expect(commands.filter((c) => /^AT\+QF(DEL|UPL)/.test(c)).map((c) => c.replace(/=.*/, ''))).toEqual(['AT+QFUPL']);
    commands.length = 0;
    await m.files.upload('b.txt', Buffer.from('newer'), { knownAbsent: true });
    expect(commands.filter((c) => /^AT\+QF(DEL|UPL)/.test(c)).map((c) => c.replace(/=.*/, ''))).toEqual(['AT+QFUPL', 'AT+QFDEL', 'AT+QFUPL']);
    expect((await m.files.download('b.txt')).toString()).toBe('newer');
  });

  test('a full drive is FILE_UPLOAD_FAILED with reason "full"', async () => {
    const { modem: m } = await modem({ model: 'EG800K' });
    const { free } = await m.files.space();
    await expect(m.files.upload('big.bin', Buffer.alloc(free + 4096))).rejects.toSatisfy((e: unknown) =>
      isQuectelError(e, 'FILE_UPLOAD_FAILED') && e.context.reason === 'full');
  });

  test('names that could leave their quotes are refused with nothing sent', async () => {
    const { modem: m, commands } = await modem();
    for (const bad of ['a"b', 'a,b', 'a\rb', 'x*', '', 'RAM:x', `${'n'.repeat(81)}`, 'dir/']) {
      await expect(m.files.upload(bad, Buffer.from('x'))).rejects.toSatisfy(code('INVALID_ARGUMENT'));
    }
    expect(commands).toEqual([]);
  });

  test('the checksum in the module\'s answer is what decides', () => {
    expect(formatChecksum(quectelChecksum(Buffer.from('1234567890')))).toBe('3938');
  });
});

describe('dns', () => {
  test('a name resolves through AT+QIDNSGIP and its URCs; an address needs no command', async () => {
    const { modem: m, commands } = await modem();
    expect(await m.dns.resolve('localhost')).toEqual(['127.0.0.1']);
    expect(commands).toEqual(['AT+QIDNSGIP=1,"localhost"']);
    commands.length = 0;
    expect(await m.dns.resolve('10.1.2.3')).toEqual(['10.1.2.3']);
    expect(commands).toEqual([]);
  });

  test('queries at once are answered each with its own addresses', async () => {
    const { modem: m } = await modem({ hosts: { 'a.test': '10.0.0.1', 'b.test': '10.0.0.2' } });
    expect(await Promise.all([m.dns.resolve('a.test'), m.dns.resolve('b.test'), m.dns.resolve('localhost')]))
      .toEqual([['10.0.0.1'], ['10.0.0.2'], ['127.0.0.1']]);
  });

  test('an unknown name is DNS_FAILED with the module\'s 565', async () => {
    const { modem: m } = await modem();
    await expect(m.dns.resolve('no-such-host.invalid')).rejects.toSatisfy((e: unknown) => isQuectelError(e, 'DNS_FAILED') && e.context.moduleError === 565);
  });
});

describe('connections', () => {
  test('TCP: open, 64 KiB each way through the echo peer, the recv URC drives the reads, close frees the id', async () => {
    const { modem: m } = await modem();
    const c = await m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: tcpPort });
    const data = randomBytes(64 * 1024);
    const got: Buffer[] = [];
    let n = 0;
    const all = new Promise<void>((resolve) => c.on('readable', () => {
      const b = c.read();
      got.push(b);
      n += b.length;
      if (n >= data.length) resolve();
    }));
    c.enqueue(data);
    await c.flush();
    await all;
    expect(createHash('sha256').update(Buffer.concat(got)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await c.close();
    expect(m.connections.get(c.id)).toBeUndefined();
  });

  test('TLS: open with a context, data both ways; sends go in full 1460-byte chunks', async () => {
    const { modem: m, commands } = await modem();
    const ctx = await m.sslContexts.acquire({ sslversion: 4, ciphersuite: 0xffff, seclevel: 0 });
    const c = await m.connections.open({ kind: 'ssl', host: 'echo.test', port: 443, sslContext: ctx });
    commands.length = 0;
    const data = Buffer.alloc(10 * 1460 + 7, 0x61);
    for (let i = 0; i < data.length; i += 100) c.enqueue(data.subarray(i, i + 100)); // many small writes
    await c.flush();
    const sends = commands.filter((x) => x.startsWith('AT+QSSLSEND='));
    expect(sends).toEqual([...Array.from({ length: 10 }, () => `AT+QSSLSEND=${c.id},1460`), `AT+QSSLSEND=${c.id},7`]);
    let n = 0;
    while (n < data.length) {
      if (c.readableLength === 0) await new Promise<void>((r) => c.once('readable', r));
      n += c.read().length;
    }
    await c.close();
    m.sslContexts.release(ctx);
  });

  test('a warm acquire with the same settings sends no AT+QSSLCFG', async () => {
    const { modem: m, commands } = await modem();
    const settings = { sslversion: 4, ciphersuite: 0xffff, seclevel: 0 as const, sni: 1 as const };
    const a = await m.sslContexts.acquire(settings);
    expect(commands.filter((c) => c.startsWith('AT+QSSLCFG'))).toHaveLength(4);
    commands.length = 0;
    expect(await m.sslContexts.acquire(settings)).toBe(a);
    expect(commands).toEqual([]);
  });

  test('the peer closing: buffered data stays readable, then end, and the id is freed', async () => {
    const server = createServer((s) => s.end('bye\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { modem: m } = await modem();
    const c = await m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: (server.address() as { port: number }).port });
    const chunks: Buffer[] = [];
    c.on('readable', () => chunks.push(c.read()));
    await new Promise<void>((r) => c.once('end', r));
    chunks.push(c.read());
    expect(Buffer.concat(chunks).toString()).toBe('bye\n');
    await new Promise<void>((r) => (c.state === 'closed' ? r() : c.once('close', r)));
    expect(m.connections.get(c.id)).toBeUndefined();
    expect(() => c.enqueue(Buffer.from('x'))).toThrow();
  });

  test('a refused open is SOCKET_OPEN_FAILED with the module\'s error and frees the id', async () => {
    const { modem: m } = await modem();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(m.connections.open({ kind: 'tcp', host: '127.0.0.1', port })).rejects.toSatisfy((e: unknown) =>
      isQuectelError(e, 'SOCKET_OPEN_FAILED') && e.context.moduleError === 566);
    expect(m.connections.all).toEqual([]);
  });

  test('a restart fails open connections with SOCKET_LOST, and the next open works', async () => {
    const { modem: m, module } = await modem({ boot: { rebootSilenceMs: 20 } });
    const c = await m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: tcpPort });
    const failed = new Promise<Error>((r) => c.once('error', r));
    module.faults.reset();
    expect(isQuectelError(await failed, 'SOCKET_LOST')).toBe(true);
    await m.whenReady(5000);
    const d = await m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: tcpPort });
    await d.close();
  });

  test('all twelve ids in use: the thirteenth open is SOCKET_IDS_EXHAUSTED with nothing sent', async () => {
    const { modem: m, commands } = await modem();
    const conns = await Promise.all(Array.from({ length: 12 }, () => m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: tcpPort })));
    commands.length = 0;
    await expect(m.connections.open({ kind: 'tcp', host: '127.0.0.1', port: tcpPort })).rejects.toSatisfy(code('SOCKET_IDS_EXHAUSTED'));
    expect(commands).toEqual([]);
    await Promise.all(conns.map((c) => c.close()));
  });
});
