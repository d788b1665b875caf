/**
 * The seed's two examples, as QuecPython runs them, on a virtual module: one-way TLS by name through getaddrinfo,
 * two-way TLS with `cert` and `key` against a server that requires a client certificate, and that server refusing
 * a client without one (a clear error, not a hang).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { errno, isOSError, Modem } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startHttpsServer, startMutualTlsServer, type HttpsPeer } from '../helpers/httpsPeers.js';

let pki: Pki;
let oneWay: HttpsPeer;
let twoWay: HttpsPeer;
beforeAll(async () => {
  pki = await makePki();
  oneWay = await startHttpsServer(pki);
  twoWay = await startMutualTlsServer(pki);
});
afterAll(async () => {
  await oneWay.close();
  await twoWay.close();
});

async function open(hosts: Record<string, string>) {
  const module = new VirtualModule({ model: 'EC25', hosts });
  const modem = await Modem.open(module);
  return { modem, module, async close() { await modem.close(); module.dispose(); } };
}

test('one-way: getaddrinfo, connect, wrap_socket(server_hostname), write, read 256 bytes, close', async () => {
  const { modem, close } = await open({ 'myssl.com': `127.0.0.1:${oneWay.port}` });
  try {
    const { usocket, ussl } = modem;
    const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
    const sockaddr = (await usocket.getaddrinfo('myssl.com', 443))[0]!.at(-1) as [string, number];
    await sock.connect(sockaddr);
    const tls = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com' });
    const request = 'GET / HTTP/1.0\r\nHost: myssl.com\r\nAccept-Encoding: deflate\r\n\r\n';
    const ret = await tls.write(request);
    expect(ret).toBe(request.length);
    const data = await tls.read(256);
    expect(data.length).toBe(256);
    expect(data.toString()).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    await tls.close();
  } finally {
    await close();
  }
});

test('two-way: cert and key reach the server, which reports the client\'s subject', async () => {
  const { modem, close } = await open({ 'myssl.com': `127.0.0.1:${twoWay.port}` });
  try {
    const { usocket, ussl } = modem;
    const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
    await sock.connect((await usocket.getaddrinfo('myssl.com', 443))[0]![4]);
    const tls = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com', cert: pki.client.cert, key: pki.client.key });
    await tls.write('GET / HTTP/1.0\r\nHost: myssl.com\r\n\r\n');
    const reply = (await tls.read()).toString();
    expect(reply).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(reply).toContain('client: ussl-client');
    await tls.close();
  } finally {
    await close();
  }
});

test('the same server refuses a client without a certificate: a clear OSError, not a hang', async () => {
  const { modem, close } = await open({ 'myssl.com': `127.0.0.1:${twoWay.port}` });
  try {
    const { usocket, ussl } = modem;
    const sock = usocket.socket();
    await sock.connect(['myssl.com', 443]);
    const started = Date.now();
    // The module speaks TLS 1.2 at most, so the refusal comes in the handshake: +QSSLOPEN: <id>,566.
    const outcome = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com' }).catch((e: unknown) => e);
    expect(isOSError(outcome, errno.ECONNABORTED)).toBe(true);
    expect((outcome as Error).message).toMatch(/TLS open of myssl\.com:443 failed.*566/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(twoWay.refused).toBeGreaterThan(0);
  } finally {
    await close();
  }
});
