/**
 * Every usocket method and QuecPython's errno semantics, on a virtual module, against real peers on loopback:
 * timeout 110, would block 11, not connected 107, already connecting 114, reset 104, EOF as empty bytes, EBADF on
 * a closed socket; wrap_socket before and after connect, twice, and the old socket after it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { errno, isOSError, isQuectelError, Modem, type Socket } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let tlsEcho: TlsEchoServer;
let echo: Server;
let echoPort: number;
/** A TCP server that accepts and then says nothing: reads on it can only time out. */
let silent: Server;
let silentPort: number;
const silentSockets = new Set<NetSocket>();

beforeAll(async () => {
  pki = await makePki();
  tlsEcho = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  echo = createServer((s) => s.pipe(s));
  silent = createServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
  });
  await Promise.all([echo, silent].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
  echoPort = (echo.address() as { port: number }).port;
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  await tlsEcho.close();
  for (const s of silentSockets) s.destroy();
  await Promise.all([echo, silent].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function modem(options: VirtualModuleOptions = {}): Promise<{ modem: Modem; module: VirtualModule; commands: string[] }> {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'tls.test': `127.0.0.1:${tlsEcho.port}` }, ...options });
  const commands: string[] = [];
  const m = await Modem.open(module, { at: { trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
  cleanups.push(() => module.dispose(), () => m.close());
  commands.length = 0;
  return { modem: m, module, commands };
}

const oserr = (n: number) => (e: unknown) => isOSError(e, n);

describe('usocket', () => {
  test('constants, socket() defaults, and what it refuses', async () => {
    const { modem: m } = await modem();
    const { usocket } = m;
    expect([usocket.AF_INET, usocket.SOCK_STREAM, usocket.IPPROTO_TCP]).toEqual([2, 1, 6]);
    const s = usocket.socket();
    expect([s.family, s.type, s.proto]).toEqual([2, 1, 6]);
    expect(() => usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)).toThrow(expect.objectContaining({ errno: errno.EOPNOTSUPP }));
  });

  test('getaddrinfo: [[af, type, proto, canonname, [ip, port]]]; an unknown name is OSError -2', async () => {
    const { modem: m } = await modem();
    expect(await m.usocket.getaddrinfo('localhost', 80)).toEqual([[2, 1, 6, '', ['127.0.0.1', 80]]]);
    expect(await m.usocket.getaddrinfo('192.0.2.7', 8883)).toEqual([[2, 1, 6, '', ['192.0.2.7', 8883]]]);
    await expect(m.usocket.getaddrinfo('no-such-host.invalid', 80)).rejects.toSatisfy(oserr(errno.EAI_NONAME));
  });

  test('connect, send, recv, read, readinto, readline, write, close on a TCP echo peer', async () => {
    const { modem: m } = await modem();
    const s = m.usocket.socket();
    expect(s.getsocketsta()).toBe(0);
    await s.connect(['127.0.0.1', echoPort]);
    expect(s.getsocketsta()).toBe(4);
    expect(s.makefile('rwb')).toBe(s);
    expect(await s.send('line one\nline two\n')).toBe(18);
    expect((await s.readline()).toString()).toBe('line one\n');
    expect((await s.readline()).toString()).toBe('line two\n');
    await s.sendall(Buffer.from('0123456789'));
    const buf = new Uint8Array(4);
    expect(await s.readinto(buf)).toBe(4);
    expect(Buffer.from(buf).toString()).toBe('0123');
    expect((await s.read(6)).toString()).toBe('456789');
    expect(await s.write(new Uint8Array([1, 2, 3]))).toBe(3);
    expect([...(await s.recv(10))]).toEqual([1, 2, 3]);
    await s.close();
    await s.close(); // idempotent
    expect(s.getsocketsta()).toBe(0);
    await expect(s.recv(10)).rejects.toSatisfy(oserr(errno.EBADF));
    await expect(s.send('x')).rejects.toSatisfy(oserr(errno.EBADF));
  });

  test('1 MiB each way through TLS with sendall and read, equal by SHA-256', async () => {
    const { modem: m } = await modem();
    const s = await m.ussl.wrap_socket(m.usocket.socket());
    await s.connect(['tls.test', 443]);
    const data = randomBytes(1024 * 1024);
    const [, got] = await Promise.all([s.sendall(data), s.read(data.length)]);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await s.close();
  });

  test('recv returns empty bytes once the peer closed and everything was read; getsocketsta says CLOSE_WAIT first', async () => {
    const bye = createServer((c) => c.end('last words'));
    await new Promise<void>((r) => bye.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => bye.close(() => r())));
    const { modem: m } = await modem();
    const s = m.usocket.socket();
    await s.connect(['127.0.0.1', (bye.address() as { port: number }).port]);
    expect((await s.read()).toString()).toBe('last words');
    expect((await s.recv(100)).length).toBe(0);
    expect((await s.recv(100)).length).toBe(0);
    expect([0, 7]).toContain(s.getsocketsta());
    await expect(s.send('too late')).rejects.toSatisfy((e: unknown) => isOSError(e) && ([errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN] as number[]).includes(e.errno));
    await s.close();
  });

  test('settimeout: recv with nothing to read is ETIMEDOUT (110) after the timeout', async () => {
    const { modem: m } = await modem();
    const s = m.usocket.socket();
    await s.connect(['127.0.0.1', silentPort]);
    s.settimeout(0.3);
    expect(s.gettimeout()).toBe(0.3);
    const t0 = Date.now();
    await expect(s.recv(10)).rejects.toSatisfy(oserr(errno.ETIMEDOUT));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await s.close();
  });

  test('setblocking(false): recv with nothing is EAGAIN (11); connect is EINPROGRESS, then EALREADY (114), then EISCONN', async () => {
    const { modem: m } = await modem();
    const s = m.usocket.socket();
    s.setblocking(false);
    expect(s.gettimeout()).toBe(0);
    await expect(s.connect(['127.0.0.1', silentPort])).rejects.toSatisfy(oserr(errno.EINPROGRESS));
    expect(s.getsocketsta()).toBe(2);
    await expect(s.connect(['127.0.0.1', silentPort])).rejects.toSatisfy(oserr(errno.EALREADY));
    await s.settled();
    await expect(s.connect(['127.0.0.1', silentPort])).rejects.toSatisfy(oserr(errno.EISCONN));
    await expect(s.recv(10)).rejects.toSatisfy(oserr(errno.EAGAIN));
    await s.close();
  });

  test('I/O on a socket that never connected is ENOTCONN (107)', async () => {
    const { modem: m } = await modem();
    const s = m.usocket.socket();
    await expect(s.send('x')).rejects.toSatisfy(oserr(errno.ENOTCONN));
    await expect(s.recv(1)).rejects.toSatisfy(oserr(errno.ENOTCONN));
    await expect(s.readline()).rejects.toSatisfy(oserr(errno.ENOTCONN));
  });

  test('a refused connect is ECONNREFUSED (111); a name that does not resolve is -2', async () => {
    const { modem: m } = await modem();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(m.usocket.socket().connect(['127.0.0.1', port])).rejects.toSatisfy(oserr(errno.ECONNREFUSED));
    await expect(m.usocket.socket().connect(['no-such-host.invalid', 80])).rejects.toSatisfy(oserr(errno.EAI_NONAME));
  });

  test('a module restart resets the connection: recv in flight fails with ECONNRESET (104), and a new socket works', async () => {
    const { modem: m, module } = await modem({ boot: { rebootSilenceMs: 20 } });
    const s = m.usocket.socket();
    await s.connect(['127.0.0.1', silentPort]);
    const pending = s.recv(10).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    module.faults.reset();
    expect(isOSError(await pending, errno.ECONNRESET)).toBe(true);
    await m.whenReady(5000);
    const t = m.usocket.socket();
    await t.connect(['127.0.0.1', echoPort]);
    await t.send('ok');
    expect((await t.read(2)).toString()).toBe('ok');
    await t.close();
  });
});

describe('ussl.wrap_socket', () => {
  test('an unconnected socket: connect opens TLS with AT+QSSLOPEN directly, no TCP open first', async () => {
    const { modem: m, commands } = await modem();
    const s = await m.ussl.wrap_socket(m.usocket.socket());
    await s.connect(['tls.test', 443]);
    expect(commands.some((c) => c.startsWith('AT+QIOPEN'))).toBe(false);
    expect(commands.filter((c) => c.startsWith('AT+QSSLOPEN'))).toEqual([expect.stringMatching(/^AT\+QSSLOPEN=1,\d,\d+,"tls\.test",443,0$/)]);
    await s.send('hi\n');
    expect((await s.readline()).toString()).toBe('hi\n');
    await s.close();
  });

  test('a connected socket: its TCP connection is closed and the same peer opened through TLS, by server_hostname', async () => {
    const { modem: m, commands } = await modem();
    const s = m.usocket.socket();
    const [[, , , , addr]] = await m.usocket.getaddrinfo('tls.test', 443) as [[number, number, number, string, [string, number]]];
    await s.connect(addr);
    commands.length = 0;
    const t = await m.ussl.wrap_socket(s, { server_hostname: 'tls.test' });
    expect(commands[0]).toMatch(/^AT\+QICLOSE=\d+$/);
    expect(commands.at(-1)).toMatch(/^AT\+QSSLOPEN=1,\d,\d+,"tls\.test",443,0$/);
    expect(tlsEcho.lastServername).toBe('tls.test');
    await t.send('x\n');
    expect((await t.readline()).toString()).toBe('x\n');
    // The socket that was wrapped is the wrapped one's now.
    await expect(s.recv(1)).rejects.toSatisfy(oserr(errno.EBADF));
    await expect(m.ussl.wrap_socket(t)).rejects.toSatisfy((e: unknown) => isQuectelError(e, 'INVALID_ARGUMENT'));
    await t.close();
  });

  test('a model without the SSL stack says "not supported on BC25" before any SSL command', async () => {
    const { modem: m, commands } = await modem({ model: 'BC25' });
    await expect(m.ussl.wrap_socket(m.usocket.socket())).rejects.toSatisfy((e: unknown) =>
      isQuectelError(e, 'NOT_SUPPORTED') && /not supported on BC25/.test((e as Error).message));
    expect(commands.filter((c) => /QSSL|QFUPL|QFLST/.test(c))).toEqual([]);
  });

  test('stream(): a Duplex with backpressure carries 256 KiB both ways', async () => {
    const { modem: m } = await modem();
    const s = await m.ussl.wrap_socket(m.usocket.socket());
    await s.connect(['tls.test', 443]);
    const stream = s.stream();
    const data = randomBytes(256 * 1024);
    const got: Buffer[] = [];
    let n = 0;
    const done = new Promise<void>((resolve) => stream.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= data.length) resolve();
    }));
    let writes = 0;
    for (let i = 0; i < data.length; i += 1000) {
      if (!stream.write(data.subarray(i, i + 1000))) {
        writes++;
        await new Promise((r) => stream.once('drain', r));
      }
    }
    await done;
    expect(writes).toBeGreaterThan(0); // backpressure was felt
    expect(Buffer.concat(got).equals(data)).toBe(true);
    stream.destroy();
  });
});

test('the old Socket import is the class users get back', async () => {
  const { modem: m } = await modem();
  const s: Socket = m.usocket.socket();
  expect(typeof s.stream).toBe('function');
});
