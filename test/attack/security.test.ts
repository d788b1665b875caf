/** Attacks on what may reach the module (hostile strings) and what may be shown (secrets). */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { connectTls, isQuectelError } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';
import { rig, runCleanups, settle, sleep } from './harness.js';

let pki: Pki;
let tlsEcho: TlsEchoServer;
beforeAll(async () => {
  pki = await makePki();
  tlsEcho = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key, ca: pki.ca.cert, requestCert: true });
});
afterAll(async () => {
  await tlsEcho.close();
});
afterEach(runCleanups);
const hosts = () => ({ 'tls.test': `127.0.0.1:${tlsEcho.port}` });

const HOSTILE = [
  'a"b', 'a,b', 'a\rb', 'a\nb', 'a\x1ab', 'a\x1bb', 'a\u010db', 'a\u010ab', 'a\u011ab', 'a\u011bb', 'a\u0122b', 'a\u012cb',
  'a\x00b', 'a\tb', '', 'a\u2028b',
];

describe('hostile strings never reach the module', () => {
  test('every entry point refuses every hostile string with INVALID_ARGUMENT and writes nothing', async () => {
    const { modem, commands, trace } = await rig({ hosts: hosts() });
    const failures: string[] = [];
    for (const h of HOSTILE) {
      const tries: Array<[string, () => unknown]> = [
        ['connect', () => modem.usocket.socket().connect([h, 443])],
        ['getaddrinfo', () => modem.usocket.getaddrinfo(h, 443)],
        ['wrap server_hostname', () => modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: h })],
        ['connectTls host', () => connectTls(modem, { host: h, port: 443 })],
        ['connectTls server_hostname', () => connectTls(modem, { host: 'tls.test', port: 443, server_hostname: h })],
        ['files.upload', () => modem.files.upload(h, Buffer.from('x'))],
        ['files.download', () => modem.files.download(h)],
        ['files.delete', () => modem.files.delete(h)],
        ['files.stat', () => modem.files.stat(h)],
        ['dns.resolve', () => modem.dns.resolve(h)],
        ['dns.setServers', () => modem.dns.setServers(h)],
      ];
      for (const [name, f] of tries) {
        const before = trace.filter((e) => e.dir === 'out').length;
        let error: unknown;
        try {
          const r = f();
          if (r && typeof (r as Promise<unknown>).then === 'function') await (r as Promise<unknown>);
          else if (r && typeof (r as { destroy?: () => void }).destroy === 'function') (r as { destroy: () => void }).destroy();
        } catch (e) {
          error = e;
        }
        await sleep(0);
        const wrote = trace.filter((e) => e.dir === 'out').length - before;
        if (!isQuectelError(error, 'INVALID_ARGUMENT') || wrote > 0) failures.push(`${name}(${JSON.stringify(h)}): ${String(error)}, wrote ${wrote}`);
      }
    }
    expect(failures).toEqual([]);
    void commands;
  });
});

describe('secrets never shown', () => {
  test('the client key never appears in a trace (traceData on), an unknown event or an error, on a BG95 with echo on', async () => {
    // Lines of the key's base64 that are not also in the certificate (both hold the public modulus).
    const certFlat = pki.client.cert.replace(/\n/g, '');
    const keyLines = pki.client.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----') && !certFlat.includes(l));
    expect(keyLines.length).toBeGreaterThan(5);
    const seen: string[] = [];
    const onTrace = (e: AtTraceEvent) => {
      seen.push(e.text ?? '');
      if (e.bytes) seen.push(Buffer.from(e.bytes).toString('latin1'));
    };
    const { modem } = await rig({ model: 'BG95', hosts: hosts() }, { at: { trace: onTrace, traceData: true } });
    modem.at.on('unknown', (l) => seen.push(l));
    await modem.send('ATE1');
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cert: pki.client.cert, key: pki.client.key, cadata: pki.ca.cert, check_hostname: false });
    const r = await settle(s.connect(['tls.test', 443]));
    if (!r.ok) seen.push(String(r.error), JSON.stringify((r.error as { context?: unknown }).context ?? {}));
    const all = seen.join('\n').replace(/\r?\n/g, '');
    const leaked = keyLines.filter((l) => all.includes(l));
    expect(leaked).toEqual([]);
    await s.close();
  });

  test('the APN password never appears in a trace, also across a PDP loss and reactivation', async () => {
    const seen: string[] = [];
    const pw = 's3cretPW';
    const { modem, module } = await rig({ hosts: hosts() }, {
      apn: { apn: 'internet', user: 'user', password: pw, auth: 1 },
      at: { trace: (e) => seen.push(e.text ?? '', e.bytes ? Buffer.from(e.bytes).toString('latin1') : ''), traceData: true },
    });
    modem.at.on('unknown', (l) => seen.push(l));
    module.faults.pdpDeactivate(1);
    await sleep(100);
    await modem.whenReady(10_000);
    await modem.send('AT+QICSGP=1'); // its reply lines go to the caller; the trace must hide the password
    expect(seen.join('\n')).not.toContain(pw);
  });
});

describe('secrets in command lines the user writes', () => {
  const cases: Array<[string, string]> = [
    ['plain PSK', 'AT+QSSLCFG="psk",0,"ident","pskSecret9"'],
    ['PSK after another command (V.250 concatenation)', 'AT+CMEE=1;+QSSLCFG="psk",0,"ident","pskSecret9"'],
    ['APN password after another command', 'AT+CMEE=1;+QICSGP=1,1,"internet","user","pskSecret9",1'],
    ['space before =', 'AT+QSSLCFG ="psk",0,"ident","pskSecret9"'],
    ['key password', 'AT+QSSLCFG="clientkey",0,"UFS:ck.pem","pskSecret9"'],
  ];
  for (const [name, line] of cases) {
    test(`${name}: the secret is in no trace event, unknown event or error`, async () => {
      const seen: string[] = [];
      const { modem } = await rig({}, { at: { trace: (e) => seen.push(e.text ?? '', e.bytes ? Buffer.from(e.bytes).toString('latin1') : ''), traceData: true } });
      modem.at.on('unknown', (l) => seen.push(l));
      const r = await settle(modem.send(line));
      if (!r.ok) seen.push(String(r.error), JSON.stringify((r.error as { context?: unknown }).context ?? {}));
      expect(seen.filter((s) => s.includes('pskSecret9'))).toEqual([]);
    });
  }
});
