/**
 * The hardware-in-the-loop suite. With USSL_PORT set (e.g. `USSL_PORT=/dev/ttyUSB2?baud=115200 USSL_APN=internet`)
 * it runs on that module; without it, on a virtual EC25 served on a socat pty, so the same scenarios always run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { VirtualModule, servePty, startDemoServers, type DemoServers, type ModuleServer } from '../src/emulator/index.js';
import { Modem } from '../src/index.js';
import { cameUp, sslContextQueries, tlsRoundTrip, uploadVerified, type TlsTarget } from './scenarios.js';

const realPort = process.env.USSL_PORT;
let modem: Modem;
let virtual: { module: VirtualModule; server: ModuleServer; dir: string; servers: DemoServers } | undefined;
let tlsTarget: TlsTarget;

beforeAll(async () => {
  let url = realPort;
  if (url) {
    // On real hardware the module must reach the server over its network: a URL given, or a public default.
    const target = new URL(process.env.USSL_TLS_URL ?? 'https://example.com/');
    tlsTarget = { host: target.hostname, port: Number(target.port || 443), path: target.pathname || '/' };
  } else {
    const servers = await startDemoServers();
    const module = new VirtualModule({ model: 'EC25', hosts: servers.hosts });
    const dir = mkdtempSync(join(tmpdir(), 'ussl-hil-'));
    const server = await servePty(module, join(dir, 'ttyHIL'));
    virtual = { module, server, dir, servers };
    url = server.url;
    tlsTarget = { host: 'myssl.com', port: 443, path: '/', cadata: servers.pki.ca.cert };
  }
  const apn = process.env.USSL_APN;
  modem = await Modem.open(url, { ...(apn ? { apn: { apn } } : {}), registrationTimeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await modem?.close();
  if (virtual) {
    await virtual.server.close();
    virtual.module.dispose();
    await virtual.servers.close();
    rmSync(virtual.dir, { recursive: true, force: true });
  }
});

const where = realPort ? `module on ${realPort}` : 'virtual EC25 on a pty';
test(`${where}: comes up identified, registered, with an address`, () => cameUp(modem));
test(`${where}: uploads a file with a verified checksum`, () => uploadVerified(modem), 60_000);
test(`${where}: SSL context queries`, () => sslContextQueries(modem), 30_000);
test(`${where}: a TLS round trip through wrap_socket`, () => tlsRoundTrip(modem, tlsTarget), 180_000);
