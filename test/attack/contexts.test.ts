/** Attacks on the six SSL contexts shared by concurrent wrap_sockets with different options. */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';
import { rig, runCleanups, settle } from './harness.js';

let pki: Pki;
let otherPki: Pki;
let tlsEcho: TlsEchoServer;
beforeAll(async () => {
  pki = await makePki();
  otherPki = await makePki();
  tlsEcho = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
});
afterAll(async () => {
  await tlsEcho.close();
});
afterEach(runCleanups);

test('a wrap that must verify the server against a CA that did not issue its certificate never opens, whatever runs beside it', async () => {
  const { modem, commands } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tlsEcho.port}` } });
  // Six sets of options, used once each and closed: every context is configured and free.
  for (let i = 0; i < 6; i++) {
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 10 + i });
    await s.connect(['myssl.test', 443]);
    await s.close();
  }
  // The untrusted CA is already on the module (a CERT_NONE wrap uploaded it): no upload delays the strict wrap.
  const warm = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: otherPki.ca.cert, cert_reqs: 0, negotiate_timeout: 99 });
  await warm.connect(['myssl.test', 443]);
  await warm.close();
  commands.length = 0;

  // Now two wraps at once, with different settings: one must verify (and fail: wrong CA), one must not verify.
  const strict = modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: otherPki.ca.cert, check_hostname: false })
    .then((s) => s.connect(['myssl.test', 443]).then(() => s));
  const lax = modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 42 })
    .then((s) => s.connect(['myssl.test', 443]).then(() => s));
  const [r1, r2] = await Promise.all([settle(strict), settle(lax)]);
  const opens = commands.filter((c) => c.startsWith('AT+QSSLOPEN'));
  // The two opens must not share one context while they want different settings.
  const ctxOf = (c: string) => c.split(',')[1];
  const detail = `opens: ${opens.join(' | ')}; configured: ${commands.filter((c) => c.startsWith('AT+QSSLCFG')).join(' | ')}`;
  expect(r1.ok, `the server certificate is not from the given CA: the strict wrap must fail; ${detail}`).toBe(false);
  expect(new Set(opens.map(ctxOf)).size, detail).toBe(opens.length);
  expect(r2.ok).toBe(true);
  if (r1.ok) await r1.value.close();
  if (r2.ok) await r2.value.close();
});

test('seven wraps at once with seven different settings: none opens with settings it did not ask for', async () => {
  const { modem, commands } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tlsEcho.port}` } });
  const wraps = Array.from({ length: 7 }, (_, i) =>
    settle(modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 20 + i }).then(async (s) => {
      await s.connect(['myssl.test', 443]);
      return s;
    })));
  const results = await Promise.all(wraps);
  const opens = commands.filter((c) => c.startsWith('AT+QSSLOPEN'));
  const ctxs = opens.map((c) => c.split(',')[1]);
  // Either the seventh is refused (SSL_CONTEXTS_BUSY), or it waits; it must never share a context configured
  // for different settings with a connection that is open.
  const live = results.filter((r) => r.ok).length;
  expect(new Set(ctxs).size, `opens: ${opens.join(' | ')}`).toBe(live);
  for (const r of results) if (r.ok) await r.value.close();
});

test('SSL_CONTEXTS_BUSY reaches a ported script as a raw QuectelError, not an OSError', async () => {
  const { modem } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tlsEcho.port}` } });
  const open = [];
  for (let i = 0; i < 6; i++) {
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 30 + i });
    await s.connect(['myssl.test', 443]);
    open.push(s);
  }
  const s7 = await modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 77 });
  const e = await s7.connect(['myssl.test', 443]).then(() => undefined, (x: unknown) => x);
  for (const s of open) await s.close();
  expect(isOSError(e), String(e)).toBe(true);
  void errno;
});

test('five cold wraps at once with the same CA: each opens, and the CA is uploaded once', async () => {
  const { modem, commands } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tlsEcho.port}` } });
  const results = await Promise.all(Array.from({ length: 5 }, () => settle(
    modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert }).then(async (s) => {
      await s.connect(['myssl.test', 443]);
      return s;
    }),
  )));
  const failures = results.filter((r) => !r.ok).map((r) => String((r as { error: unknown }).error));
  expect(failures).toEqual([]);
  expect(commands.filter((c) => c.startsWith('AT+QFUPL')).length).toBe(1);
  for (const r of results) if (r.ok) await r.value.close();
});
