/**
 * wrap_socket's options as the module carries them out, against real peers: one cipher suite, a protocol version,
 * the module clock set from the host so dates verify, a firmware that needs a CA to send a client certificate,
 * direct-push receive; and the data path's promises: SEND FAIL retried, a slow reader bounding what is drained,
 * contexts configured again after a restart, the DNS servers.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { errno, isOSError, Modem, type ModemOptions } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let server: TlsEchoServer;
let mtls: TlsEchoServer;
beforeAll(async () => {
  pki = await makePki();
  server = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  mtls = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key, ca: pki.ca.cert, requestCert: true });
});
afterAll(async () => {
  await server.close();
  await mtls.close();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(options: VirtualModuleOptions = {}, modemOptions: ModemOptions = {}) {
  const module = new VirtualModule({
    model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${server.port}`, localhost: `127.0.0.1:${mtls.port}` }, ...options,
  });
  const commands: string[] = [];
  const modem = await Modem.open(module, { ...modemOptions, at: { trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
  cleanups.push(() => module.dispose(), () => modem.close());
  commands.length = 0;
  return { modem, module, commands };
}

async function echo(modem: Modem, options: Parameters<Modem['ussl']['wrap_socket']>[1], host = 'myssl.test'): Promise<void> {
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await s.connect([host, 443]);
  await s.send('ping\n');
  expect((await s.readline()).toString()).toBe('ping\n');
  await s.close();
}

test('ciphers: one suite by name goes out as its code, unquoted, and is what the server negotiates', async () => {
  const { modem, commands } = await open({ model: 'BG96' });
  await echo(modem, { ciphers: 'TLS_RSA_WITH_AES_256_CBC_SHA' });
  expect(commands).toContain('AT+QSSLCFG="ciphersuite",0,0X0035');
  expect(server.lastCipher).toBe('TLS_RSA_WITH_AES_256_CBC_SHA');
  await echo(modem, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }); // an OpenSSL name works too
  expect(server.lastCipher).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
});

test('min/max version: one version is that version; the server sees it', async () => {
  const { modem, commands } = await open();
  await echo(modem, { min_version: 'TLSv1.2', max_version: 'TLSv1.2' });
  expect(commands).toContain('AT+QSSLCFG="sslversion",0,3');
  expect(server.lastProtocol).toBe('TLSv1.2');
});

test('set_clock: with the module clock in 2000 a verified open fails; set from the host it verifies', async () => {
  const { modem, commands } = await open();
  await modem.send('AT+CCLK="00/01/01,00:00:00+00"');
  const options = { cadata: pki.ca.cert, server_hostname: 'myssl.test', ignore_local_time: false };
  await expect(echo(modem, options)).rejects.toSatisfy((e: unknown) => isOSError(e, errno.ECONNABORTED));
  commands.length = 0;
  await echo(modem, { ...options, set_clock: true });
  expect(commands.some((c) => /^AT\+CCLK="\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d\+00"$/.test(c))).toBe(true);
});

test('a firmware that needs a CA to send a client certificate: the error says so and what to pass', async () => {
  const { modem } = await open({ clientCertWithoutCa: 'refuse' });
  const outcome = await echo(modem, { cert: pki.client.cert, key: pki.client.key }, 'localhost').catch((e: unknown) => e);
  expect(isOSError(outcome, errno.ECONNABORTED)).toBe(true);
  expect((outcome as Error).message).toMatch(/this firmware may need a CA to send a client certificate: pass cadata/);
  // With cadata the same firmware sends it.
  await echo(modem, { cert: pki.client.cert, key: pki.client.key, cadata: pki.ca.cert }, 'localhost');
  expect(mtls.lastClientCN).toBe('ussl-client');
});

test('direct-push receive: data comes inside the URC, no AT+QSSLRECV at all', async () => {
  const { modem, commands } = await open();
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
  await s.connect(['myssl.test', 443]);
  expect(commands.at(-1)).toMatch(/^AT\+QSSLOPEN=1,\d,\d+,"myssl\.test",443,1$/);
  const data = Buffer.alloc(20_000, 0x42);
  await s.sendall(data);
  expect((await s.read(data.length)).equals(data)).toBe(true);
  expect(commands.filter((c) => c.startsWith('AT+QSSLRECV'))).toEqual([]);
  await s.close();
});

test('SEND FAIL (the module\'s buffer full) is waited out and the same bytes sent again, once', async () => {
  const { modem, module, commands } = await open();
  const s = await modem.ussl.wrap_socket(modem.usocket.socket());
  await s.connect(['myssl.test', 443]);
  module.faults.sendFail(3);
  commands.length = 0;
  await s.send('exactly once\n');
  expect(commands.filter((c) => c.startsWith('AT+QSSLSEND='))).toHaveLength(4);
  expect((await s.readline()).toString()).toBe('exactly once\n');
  await s.close();
});

test('a slow reader: draining stops at the bound and the module keeps the rest until the application reads', async () => {
  const { modem, module } = await open({}, { connections: { maxBuffered: 8192 } });
  const s = await modem.ussl.wrap_socket(modem.usocket.socket());
  await s.connect(['myssl.test', 443]);
  const data = Buffer.alloc(100_000, 0x43);
  await s.sendall(data);
  // Nobody reads: wait until the module's own receive buffer is full (64 KiB; past it TCP holds the peer back).
  const conn = s.connection!;
  const inModule = () => module.state.conns[conn.id]?.buffered ?? 0;
  for (const deadline = Date.now() + 10_000; inModule() < 64 * 1024;) {
    if (Date.now() > deadline) throw new Error(`the module holds ${inModule()} bytes, the host ${conn.readableLength}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(conn.readableLength).toBeGreaterThanOrEqual(8192);
  expect(conn.readableLength).toBeLessThan(8192 + 1500);
  expect((await s.read(data.length)).equals(data)).toBe(true);
  await s.close();
});

test('after a restart the contexts in use are configured again: the next wrap lists the files once and opens', async () => {
  const { modem, module, commands } = await open({ boot: { rebootSilenceMs: 20 } });
  const options = { cadata: pki.ca.cert, server_hostname: 'myssl.test' };
  await echo(modem, options);
  const restarted = new Promise<void>((r) => modem.once('socketsLost', () => r()));
  module.faults.reset();
  await restarted;
  await modem.whenReady(5000);
  commands.length = 0;
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await s.connect(['myssl.test', 443]);
  expect(commands).toEqual(['AT+QFLST', expect.stringMatching(/^AT\+QSSLOPEN=/)]);
  await s.close();
});

test('the DNS servers of the context can be read and set', async () => {
  const { modem } = await open();
  await modem.dns.setServers('1.1.1.1', '9.9.9.9');
  expect(await modem.dns.servers()).toEqual({ primary: '1.1.1.1', secondary: '9.9.9.9' });
});
