/**
 * Two-way TLS against `openssl s_server -Verify 1`: the client certificate and key go to UFS through AT+QFUPL (size
 * and checksum checked), and the same server refuses the handshake when the context has no client certificate.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';
import { VirtualModule } from '../../src/emulator/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { startOpensslServer, type OpensslServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let server: OpensslServer;
const modules: VirtualModule[] = [];
beforeAll(async () => {
  pki = await makePki();
  server = await startOpensslServer({
    cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath, CAfile: pki.ca.certPath, verifyClient: true,
  });
}, 60_000);
afterAll(async () => {
  for (const m of modules) m.dispose();
  await server.close();
});

async function session(): Promise<RawAtSession> {
  const m = new VirtualModule({ model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${server.port}` } });
  modules.push(m);
  const at = new RawAtSession(linkOf(m));
  await at.waitUrc(/^RDY$/);
  for (const c of ['ATE0', 'AT+CMEE=1', 'AT+QIACT=1']) expect((await at.send(c)).final).toBe('OK');
  return at;
}

async function upload(at: RawAtSession, name: string, text: string): Promise<void> {
  const data = Buffer.from(text);
  await at.send(`AT+QFDEL="${name}"`);
  const r = await at.send(`AT+QFUPL="${name}",${data.length},10`, data);
  expect(r.lines).toEqual([`+QFUPL: ${data.length},${formatChecksum(quectelChecksum(data))}`, 'OK']);
}

test('with the uploaded client certificate the handshake succeeds and data flows both ways', async () => {
  const at = await session();
  await upload(at, 'UFS:ca.pem', pki.ca.cert);
  await upload(at, 'UFS:client.pem', pki.client.cert);
  await upload(at, 'UFS:client.key', pki.client.key);
  for (const c of ['"seclevel",1,2', '"cacert",1,"UFS:ca.pem"', '"clientcert",1,"UFS:client.pem"',
    '"clientkey",1,"UFS:client.key"', '"sni",1,1', '"sslversion",1,4', '"ciphersuite",1,0XFFFF']) {
    expect((await at.send(`AT+QSSLCFG=${c}`)).final, c).toBe('OK');
  }
  await at.send('AT+QSSLOPEN=1,1,3,"myssl.test",4433,0');
  expect(await at.waitUrc(/^\+QSSLOPEN: 3,/)).toBe('+QSSLOPEN: 3,0');
  const line = Buffer.from('hello from the module\n');
  expect((await at.send(`AT+QSSLSEND=3,${line.length}`, line)).final).toBe('SEND OK');
  await at.waitUrc(/^\+QSSLURC: "recv",3$/);
  // s_server -rev answers each line reversed.
  const r = await at.send('AT+QSSLRECV=3,1500');
  expect(r.data.toString()).toBe('eludom eht morf olleh\n');
  expect(server.output()).toMatch(/CN ?= ?ussl-client/);
  expect((await at.send('AT+QSSLCLOSE=3')).final).toBe('OK');
});

test('without a client certificate the server refuses: a non-zero +QSSLOPEN', async () => {
  const at = await session();
  await upload(at, 'ca.pem', pki.ca.cert);
  for (const c of ['"seclevel",1,1', '"cacert",1,"ca.pem"']) expect((await at.send(`AT+QSSLCFG=${c}`)).final).toBe('OK');
  await at.send('AT+QSSLOPEN=1,1,0,"myssl.test",4433,0');
  const urc = await at.waitUrc(/^\+QSSLOPEN: 0,/);
  expect(Number(urc.split(',')[1])).toBeGreaterThan(0);
  await server.waitForOutput(/peer did not return a certificate/);
  expect((await at.send('AT+QSSLSTATE')).lines).toEqual(['OK']);
});
