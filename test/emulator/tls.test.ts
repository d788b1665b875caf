/**
 * Real TLS behind the SSL commands: verification from the SSL context (seclevel, CA in UFS, module clock, host
 * name, SNI), data in both directions with the documented framing, URCs, and the socket fault knobs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { VirtualModule, type ModelName } from '../../src/emulator/index.js';
import { makePki, type Pki, type PkiCredential } from '../helpers/pki.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
const servers: TlsEchoServer[] = [];
const modules: VirtualModule[] = [];
beforeAll(async () => {
  pki = await makePki();
}, 60_000);
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(cred: PkiCredential, extra: { sniRequired?: boolean } = {}): Promise<TlsEchoServer> {
  const s = await startTlsEchoServer({ cert: cred.cert, key: cred.key, ...extra });
  servers.push(s);
  return s;
}

/** A booted module with echo off, PDP 1 active and `myssl.test` pointing at `srv`. */
async function session(srv: TlsEchoServer, model: ModelName = 'EC25'): Promise<RawAtSession> {
  const m = new VirtualModule({ model, hosts: { 'myssl.test': `127.0.0.1:${srv.port}` } });
  modules.push(m);
  const at = new RawAtSession(linkOf(m));
  // The whole banner, so no boot URC lands in the raw bytes a test inspects.
  await at.waitLines(['RDY', ...m.bootUrcs]);
  expect((await at.send('ATE0')).final).toBe('OK');
  expect((await at.send('AT+QIACT=1')).final).toBe('OK');
  return at;
}

async function upload(at: RawAtSession, name: string, pem: string): Promise<void> {
  const data = Buffer.from(pem);
  const r = await at.send(`AT+QFUPL="${name}",${data.length},10`, data);
  expect(r.final).toBe('OK');
}

async function configure(at: RawAtSession, settings: Record<string, string | number>): Promise<void> {
  for (const [k, v] of Object.entries(settings)) {
    const value = typeof v === 'number' || /^0X/i.test(v) ? String(v) : `"${v}"`;
    expect((await at.send(`AT+QSSLCFG="${k}",1,${value}`)).final, k).toBe('OK');
  }
}

async function open(at: RawAtSession, mode = 0, id = 0): Promise<number> {
  expect((await at.send(`AT+QSSLOPEN=1,1,${id},"myssl.test",443,${mode}`)).final).toBe('OK');
  const urc = await at.waitUrc(new RegExp(`^\\+QSSLOPEN: ${id},`));
  return Number(urc.split(',')[1]);
}

const MSG = Buffer.from('Test data from SSL');

describe('one-way TLS with the CA in UFS', () => {
  test('verifies, sends, signals recv once, reads with the documented framing, closes', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    await upload(at, 'ca.pem', pki.ca.cert);
    await configure(at, { seclevel: 1, cacert: 'UFS:ca.pem', sni: 1, ignorelocaltime: 1 });
    expect(await open(at)).toBe(0);
    expect(srv.lastServername).toBe('myssl.test');
    expect((await at.send(`AT+QSSLSEND=0,${MSG.length}`, MSG)).final).toBe('SEND OK');
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    const r = await at.send('AT+QSSLRECV=0,1500');
    expect(r.lines[0]).toBe('+QSSLRECV: 18');
    expect(r.data.equals(MSG)).toBe(true);
    expect((await at.send('AT+QSSLRECV=0,1500')).lines).toEqual(['+QSSLRECV: 0', 'OK']);
    const state = await at.send('AT+QSSLSTATE');
    expect(state.lines[0]).toMatch(/^\+QSSLSTATE: 0,"SSLClient","127\.0\.0\.1",443,\d+,2,1,0,0,"usbat",1$/);
    expect((await at.send('AT+QSSLCLOSE=0')).final).toBe('OK');
    expect((await at.send('AT+QSSLSTATE')).lines).toEqual(['OK']);
    expect((await at.send('AT+QSSLRECV=0,1500')).final).toBe('ERROR');
  });

  test('the Ctrl-Z send form, and ESC cancels', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at)).toBe(0);
    expect((await at.send('AT+QSSLSEND=0', Buffer.concat([MSG, Buffer.from([0x1a])]))).final).toBe('SEND OK');
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    expect((await at.send('AT+QSSLRECV=0,100')).data.equals(MSG)).toBe(true);
    expect((await at.send('AT+QSSLSEND=0', Buffer.from('dropped\x1b'))).final).toBe('OK');
  });

  test('the raw bytes of a read: "\\r\\n+QSSLRECV: n\\r\\n" + data + "\\r\\n\\r\\nOK\\r\\n"', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at)).toBe(0);
    await at.send(`AT+QSSLSEND=0,${MSG.length}`, MSG);
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    const m = modules[0]!;
    const got: Buffer[] = [];
    m.on('output', (c) => got.push(c));
    await at.send('AT+QSSLRECV=0,1500');
    expect(Buffer.concat(got).toString('latin1')).toBe('\r\n+QSSLRECV: 18\r\nTest data from SSL\r\n\r\nOK\r\n');
  });

  test('recv is edge-triggered: no second URC until the buffer was drained', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at)).toBe(0);
    await at.send('AT+QSSLSEND=0,4', Buffer.from('abcd'));
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    await at.send('AT+QSSLSEND=0,4', Buffer.from('efgh'));
    await new Promise((r) => setTimeout(r, 100));
    expect((await at.send('AT')).final).toBe('OK');
    expect(at.hasUrc(/recv/)).toBe(false);
    expect((await at.send('AT+QSSLRECV=0,1500')).data.toString()).toBe('abcdefgh');
    await at.send('AT+QSSLSEND=0,2', Buffer.from('ij'));
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
  });

  test('direct push mode carries the data in the URC', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at, 1)).toBe(0);
    await at.send(`AT+QSSLSEND=0,${MSG.length}`, MSG);
    await at.waitUrc(/^\+QSSLURC: "recv",0,18$/);
    expect(Buffer.concat(at.pushed.get(0)!).equals(MSG)).toBe(true);
    expect((await at.send('AT+QSSLRECV=0,1500')).final).toBe('ERROR');
  });
});

describe('verification failures give a non-zero +QSSLOPEN', () => {
  const cases: Array<[string, (p: Pki) => PkiCredential, Record<string, string | number>, number]> = [
    ['untrusted (self-signed) server', (p) => p.selfSignedServer, { seclevel: 1, cacert: 'ca.pem' }, 566],
    ['wrong host name', (p) => p.wrongHostServer, { seclevel: 1, cacert: 'ca.pem' }, 566],
    ['expired certificate checked against the clock', (p) => p.expiredServer, { seclevel: 1, cacert: 'ca.pem', ignorelocaltime: 0 }, 566],
    ['seclevel 1 without a CA file (T15)', (p) => p.serverRsa, { seclevel: 1 }, 566],
    ['seclevel 2 without a client certificate', (p) => p.serverRsa, { seclevel: 2, cacert: 'ca.pem' }, 566],
  ];
  test.each(cases)('%s', async (_name, cred, settings, code) => {
    const srv = await server(cred(pki));
    const at = await session(srv);
    await upload(at, 'ca.pem', pki.ca.cert);
    await configure(at, settings);
    expect(await open(at)).toBe(code);
    expect((await at.send('AT+QSSLSTATE')).lines).toEqual(['OK']);
  });

  test('ignorelocaltime=1 ignores validity; with 0 the module clock (AT+CCLK) decides, not the host clock', async () => {
    const expired = await server(pki.expiredServer);
    const at = await session(expired);
    await upload(at, 'ca.pem', pki.ca.cert);
    await configure(at, { seclevel: 1, cacert: 'ca.pem', ignorelocaltime: 1 });
    expect(await open(at), 'expired, time ignored').toBe(0);
    await at.send('AT+QSSLCLOSE=0');
    const valid = await server(pki.serverRsa);
    const at2 = await session(valid);
    await upload(at2, 'ca.pem', pki.ca.cert);
    await configure(at2, { seclevel: 1, cacert: 'ca.pem', ignorelocaltime: 0 });
    expect(await open(at2), 'valid now').toBe(0);
    await at2.send('AT+QSSLCLOSE=0');
    // Ten years on, the server certificate (825 days) has expired by the module's clock.
    const later = new Date(Date.now() + 3650 * 86_400_000);
    const yy = String(later.getUTCFullYear() % 100).padStart(2, '0');
    expect((await at2.send(`AT+CCLK="${yy}/01/15,12:00:00+00"`)).final).toBe('OK');
    expect(await open(at2), 'expired by the module clock').toBe(566);
  });

  test('SNI: a server that needs it refuses sni=0 and accepts sni=1', async () => {
    const srv = await server(pki.serverRsa, { sniRequired: true });
    const at = await session(srv);
    expect(await open(at)).toBe(566);
    await configure(at, { sni: 1 });
    expect(await open(at)).toBe(0);
  });

  test('DNS failure is 565; an unreachable port is 566', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    await at.send('AT+QSSLOPEN=1,1,0,"no-such-host.invalid",443,0');
    expect(await at.waitUrc(/^\+QSSLOPEN: 0,/)).toBe('+QSSLOPEN: 0,565');
    await at.send('AT+QSSLOPEN=1,1,1,"127.0.0.1",1,0');
    expect(await at.waitUrc(/^\+QSSLOPEN: 1,/)).toBe('+QSSLOPEN: 1,566');
  });
});

describe('connection rules and faults', () => {
  test('a busy id is ERROR with 552; without an active PDP context opens are refused', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at)).toBe(0);
    expect((await at.send('AT+QSSLOPEN=1,1,0,"myssl.test",443,0')).final).toBe('ERROR');
    expect((await at.send('AT+QIGETERROR')).lines[0]).toBe('+QIGETERROR: 552,invalid parameters');
    expect((await at.send('AT+QSSLOPEN=2,1,1,"myssl.test",443,0')).final).toBe('ERROR');
  });

  test('the peer closing: closed URC, state 4, buffered data still readable, send refused', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    expect(await open(at)).toBe(0);
    await at.send('AT+QSSLSEND=0,4', Buffer.from('ping'));
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    modules[0]!.faults.peerClose(0);
    await at.waitUrc(/^\+QSSLURC: "closed",0$/);
    expect((await at.send('AT+QSSLSTATE=0')).lines[0]).toMatch(/,4,1,0,0,"usbat",1$/);
    expect((await at.send('AT+QSSLRECV=0,10')).data.toString()).toBe('ping');
    expect((await at.send('AT+QSSLSEND=0,1', Buffer.from('x'))).final).toBe('ERROR');
    expect((await at.send('AT+QSSLCLOSE=0')).final).toBe('OK');
  });

  test('SEND FAIL on demand; the stack degrades to 552 after N opens until a reboot (T17)', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    const m = modules[0]!;
    m.faults.sendFail(1).failOpensAfter(1);
    expect(await open(at)).toBe(0);
    expect((await at.send('AT+QSSLSEND=0,1', Buffer.from('x'))).final).toBe('SEND FAIL');
    expect((await at.send('AT+QSSLSEND=0,1', Buffer.from('x'))).final).toBe('SEND OK');
    expect(await open(at, 0, 1)).toBe(552);
    expect(await open(at, 0, 2)).toBe(552);
  });

  test('a URC in front of +QSSLRECV (T26), and pdpdeact closing every socket', async () => {
    const srv = await server(pki.serverRsa);
    const at = await session(srv);
    const m = modules[0]!;
    expect(await open(at)).toBe(0);
    await at.send('AT+QSSLSEND=0,2', Buffer.from('hi'));
    await at.waitUrc(/^\+QSSLURC: "recv",0$/);
    m.faults.urcBeforeRecv('+QSSLURC: "recv",0');
    const got: Buffer[] = [];
    m.on('output', (c) => got.push(c));
    await at.send('AT+QSSLRECV=0,10');
    expect(Buffer.concat(got).toString('latin1')).toBe('\r\n+QSSLURC: "recv",0\r\n\r\n+QSSLRECV: 2\r\nhi\r\n\r\nOK\r\n');
    m.faults.pdpDeactivate(1);
    await at.waitUrc(/^\+QIURC: "pdpdeact",1$/);
    await at.waitUrc(/^\+QSSLURC: "closed",0$/);
    expect((await at.send('AT+QIACT?')).lines).toEqual(['OK']);
  });

  test('EG800K reports a DNS failure as 565 but every TLS failure as 566', async () => {
    const srv = await server(pki.selfSignedServer);
    const at = await session(srv, 'EG800K');
    await upload(at, 'ca.pem', pki.ca.cert);
    await configure(at, { seclevel: 1, cacert: 'UFS:ca.pem' });
    expect(await open(at)).toBe(566);
  });
});
