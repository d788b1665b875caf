/**
 * The ussl API against an independent TLS implementation, `openssl s_server`, through the virtual module: one-way
 * verified, two-way (`-Verify 1`) with and without a certificate, TLS 1.2 forced, a TLS 1.3-only server, and the
 * three certificate failures (expired, another host, an untrusted root): each refused with a clear OSError.
 */
import { afterEach, beforeAll, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { errno, isOSError, Modem, type WrapSocketOptions } from '../../src/index.js';
import { makePki, type Pki, type PkiCredential } from '../helpers/pki.js';
import { startOpensslServer, type OpensslServer } from '../helpers/tlsPeers.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(cred: PkiCredential, extra: Partial<Parameters<typeof startOpensslServer>[0]> = {}): Promise<OpensslServer> {
  const server = await startOpensslServer({ cert: cred.certPath, key: cred.keyPath, ...extra });
  cleanups.push(() => server.close());
  return server;
}

/** Opens to `server` as `myssl.test` and sends a line, which s_server -rev answers reversed. */
async function talk(server: OpensslServer, options: WrapSocketOptions): Promise<string> {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${server.port}` } });
  const modem = await Modem.open(module);
  cleanups.push(() => module.dispose(), () => modem.close());
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: 'myssl.test', ...options });
  sock.settimeout(20);
  await sock.connect(['myssl.test', 443]);
  await sock.sendall('hello\n');
  const back = (await sock.readline()).toString();
  await sock.close();
  return back;
}

const refused = (pattern: RegExp) => (e: unknown) => isOSError(e, errno.ECONNABORTED) && pattern.test((e as Error).message);

test('one-way, verified against the CA', async () => {
  expect(await talk(await serve(pki.serverRsa), { cadata: pki.ca.cert })).toBe('olleh\n');
});

test('two-way: s_server -Verify 1 accepts the client certificate and names it', async () => {
  const server = await serve(pki.serverRsa, { CAfile: pki.ca.certPath, verifyClient: true });
  expect(await talk(server, { cadata: pki.ca.cert, cert: pki.client.cert, key: pki.client.key })).toBe('olleh\n');
  expect(server.output()).toMatch(/Peer certificate: CN ?= ?ussl-client/);
});

test('two-way without a certificate: refused in the handshake, with a message that says what to look at', async () => {
  const server = await serve(pki.serverRsa, { CAfile: pki.ca.certPath, verifyClient: true });
  await expect(talk(server, { cadata: pki.ca.cert })).rejects.toSatisfy(refused(/566 for every handshake or certificate failure/));
});

test('TLS 1.2 forced on both sides negotiates; a TLS 1.3-only server is refused (the module has no TLS 1.3)', async () => {
  expect(await talk(await serve(pki.serverRsa, { tls: '1.2' }), { min_version: 'TLSv1.2', max_version: 'TLSv1.2' })).toBe('olleh\n');
  await expect(talk(await serve(pki.serverRsa, { tls: '1.3' }), {})).rejects.toSatisfy(refused(/handshake itself failed/));
});

test('an expired certificate is refused when dates are checked against the module clock', async () => {
  const server = await serve(pki.expiredServer);
  await expect(talk(server, { cadata: pki.ca.cert, ignore_local_time: false })).rejects.toSatisfy(refused(/its dates against the module clock/));
});

test('a certificate for another host is refused', async () => {
  await expect(talk(await serve(pki.wrongHostServer), { cadata: pki.ca.cert })).rejects.toSatisfy(refused(/for the host name/));
});

test('a certificate from an untrusted root is refused', async () => {
  await expect(talk(await serve(pki.selfSignedServer), { cadata: pki.ca.cert })).rejects.toSatisfy(refused(/checked against cadata/));
});
