/**
 * SSL contexts are shared between wraps whose settings match: a wrap must behave the same whether it gets a fresh
 * context or one an earlier wrap configured.
 */
import { createServer, type Server } from 'node:tls';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { makePki, type Pki } from '../helpers/pki.js';
import { rig, runCleanups, settle } from '../attack/harness.js';

let pki: Pki;
const servers: Server[] = [];
let verifiedPort = 0;
let selfSignedPort = 0;

/** A TLS server that requires a client certificate from the test CA and answers with the client's CN. */
async function mtlsServer(cert: string, key: string): Promise<number> {
  const server = createServer({ cert, key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    s.on('error', () => {});
    s.end(`client ${s.getPeerCertificate().subject?.CN ?? '(none)'}\n`);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

beforeAll(async () => {
  pki = await makePki();
  verifiedPort = await mtlsServer(pki.serverRsa.cert, pki.serverRsa.key);
  selfSignedPort = await mtlsServer(pki.selfSignedServer.cert, pki.selfSignedServer.key);
});
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});
afterEach(runCleanups);

const hosts = () => ({ 'myssl.test': `127.0.0.1:${verifiedPort}`, 'selfsigned.test': `127.0.0.1:${selfSignedPort}` });

async function twoWayWithoutCa(modem: Awaited<ReturnType<typeof rig>>['modem']): Promise<string> {
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cert: pki.client.cert, key: pki.client.key });
  const r = await settle(s.connect(['selfsigned.test', 443]));
  if (!r.ok) return `connect failed: ${String(r.error)}`;
  const line = (await s.readline()).toString();
  await s.close();
  return line;
}

test('control: a two-way wrap without cadata on a fresh module does not verify the server and works', async () => {
  const { modem } = await rig({ hosts: hosts() });
  expect(await twoWayWithoutCa(modem)).toBe('client ussl-client\n');
});

test('a two-way wrap without cadata is not verified against the CA an earlier wrap with cadata left in the shared context', async () => {
  const { modem } = await rig({ hosts: hosts() });
  // First wrap: the same client certificate, and the server verified against the test CA.
  const a = await modem.ussl.wrap_socket(modem.usocket.socket(), { cert: pki.client.cert, key: pki.client.key, cadata: pki.ca.cert });
  await a.connect(['myssl.test', 443]);
  expect((await a.readline()).toString()).toBe('client ussl-client\n');
  await a.close();
  // Second wrap: no cadata, so cert_reqs is CERT_NONE: the server must not be checked against anything.
  expect(await twoWayWithoutCa(modem)).toBe('client ussl-client\n');
});
