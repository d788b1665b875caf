/**
 * A module on another host: a virtual EC25 on a pty, served by ser2net on loopback as raw TCP (`socket://`) and as
 * telnet with RFC 2217 (`rfc2217://`), and the seed's two examples run through each URL with the QuecPython-shaped
 * API. Over RFC 2217 the far port's speed is set and confirmed; a raw port asked to speak RFC 2217 fails clearly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDemoServers, type DemoServers } from '../../src/emulator/demoServers.js';
import { servePty, VirtualModule, type ModuleServer } from '../../src/emulator/index.js';
import { isQuectelError } from '../../src/errors.js';
import { attach, detach, usocket, ussl } from '../../src/quecpython.js';
import { openTransport } from '../../src/transport/openTransport.js';
import { Rfc2217Transport } from '../../src/transport/Rfc2217Transport.js';
import { startSer2net, type Ser2net } from '../helpers/ser2net.js';

let servers: DemoServers;
let module: VirtualModule;
let pty: ModuleServer;
let ser2net: Ser2net;
let dir: string;

beforeAll(async () => {
  servers = await startDemoServers();
  module = new VirtualModule({ model: 'EC25', hosts: servers.hosts });
  dir = mkdtempSync(join(tmpdir(), 'ser2net-module-'));
  pty = await servePty(module, join(dir, 'ttyV0'));
  ser2net = await startSer2net([{ device: pty.url, mode: 'raw' }, { device: pty.url, mode: 'rfc2217' }]);
}, 30_000);

afterAll(async () => {
  await detach();
  await ser2net?.close();
  await pty?.close();
  module?.dispose();
  await servers?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The seed's first example, then its second, through whatever module `attach` opened. */
async function seedExamples(): Promise<string[]> {
  const replies: string[] = [];
  for (const twoWay of [false, true]) {
    const host = twoWay ? 'mtls.myssl.com' : 'myssl.com';
    const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
    await sock.connect((await usocket.getaddrinfo(host, 443))[0]![4]);
    const options = twoWay ? { server_hostname: host, cert: servers.pki.client.cert, key: servers.pki.client.key } : { server_hostname: host };
    const ssock = await ussl.wrap_socket(sock, options);
    await ssock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
    replies.push((await ssock.read()).toString().split('\r\n\r\n')[1] ?? '');
    await ssock.close();
  }
  return replies;
}

describe('the seed\'s examples through ser2net', () => {
  test.each([['socket://', 0], ['rfc2217://', 1]] as const)('%s: one-way and two-way TLS', async (_name, which) => {
    const url = ser2net.urls[which]!;
    // Both URLs serve one device: ser2net lets the next client have it once the last one's connection is gone.
    for (let attempt = 0; ; attempt++) {
      const r = await attach(which === 1 ? `${url}?baud=115200` : url).then(() => undefined, (e: unknown) => e);
      if (r === undefined) break;
      if (attempt >= 20 || !isQuectelError(r, 'TRANSPORT_OPEN_FAILED')) throw r;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const [oneWay, twoWay] = await seedExamples();
    expect(oneWay).toMatch(/^Hello from myssl\.com: TLS TLSv1\.2, .*client anonymous/);
    expect(twoWay).toMatch(/^Hello from mtls\.myssl\.com: .*client ussl-bridge demo client/);
    await detach();
  }, 60_000);
});

describe('RFC 2217 line control', () => {
  test('the far port\'s speed is set and confirmed by the server, and data still flows after a change', async () => {
    const t = await openTransport(`${ser2net.urls[1]!}?baud=115200`);
    expect(t).toBeInstanceOf(Rfc2217Transport);
    let got = '';
    t.on('data', (d) => (got += Buffer.from(d).toString('latin1')));
    await t.setBaudRate!(921_600);
    await t.write(Buffer.from('AT+CGMM\r'));
    for (let i = 0; i < 100 && !/\r\nOK\r\n$/.test(got); i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toContain('EC25');
    await t.close();
  }, 30_000);

  test('a raw TCP port is not an RFC 2217 server: opening it as one fails within the negotiation time, clearly', async () => {
    // A raw serial server passes the telnet bytes to the device and never answers them.
    const raw = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    const r = await Rfc2217Transport.open({ host: '127.0.0.1', port: (raw.address() as { port: number }).port, negotiationTimeoutMs: 500 })
      .then(() => 'opened', (e: unknown) => e);
    expect(isQuectelError(r, 'TRANSPORT_OPEN_FAILED') && r.message).toMatch(/is it an RFC 2217 server\?/);
    expect(Date.now() - started).toBeLessThan(5000);
    raw.close();
  }, 30_000);
});
