/**
 * Bad input across the usocket/ussl API: each is a clear error, and nothing reaches the module (the engine's trace
 * shows no command from the call). Every string that would end up in a command is checked first.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule } from '../../src/emulator/index.js';
import { isQuectelError, Modem, type QuectelErrorCode, type Socket } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';

let pki: Pki;
let module: VirtualModule;
let modem: Modem;
const commands: string[] = [];
beforeAll(async () => {
  pki = await makePki();
  module = new VirtualModule({ model: 'EC25' });
  modem = await Modem.open(module, { at: { trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
});
afterAll(async () => {
  await modem.close();
  module.dispose();
});

type Case = [name: string, code: QuectelErrorCode | 'OS_ERROR', run: () => Promise<unknown> | unknown];
const sock = (): Socket => modem.usocket.socket();
const wrap = (o: object) => modem.ussl.wrap_socket(sock(), o);
const keyOfOther = (): string => pki.serverRsa.key;

const CASES: Case[] = [
  ['host with a quote', 'INVALID_ARGUMENT', () => sock().connect(['a"b.test', 443])],
  ['host with a comma', 'INVALID_ARGUMENT', () => sock().connect(['a,b.test', 443])],
  ['host with CR', 'INVALID_ARGUMENT', () => sock().connect(['a\rAT+QPOWD', 443])],
  ['host with LF', 'INVALID_ARGUMENT', () => sock().connect(['a\nb', 443])],
  ['host with Ctrl-Z', 'INVALID_ARGUMENT', () => sock().connect(['a\x1ab', 443])],
  ['host with ESC', 'INVALID_ARGUMENT', () => sock().connect(['a\x1bb', 443])],
  ['host with U+010D (CR as latin1)', 'INVALID_ARGUMENT', () => sock().connect(['a\u010db', 443])],
  ['host with a space', 'INVALID_ARGUMENT', () => sock().connect(['a b', 443])],
  ['empty host', 'INVALID_ARGUMENT', () => sock().connect(['', 443])],
  ['host of 300 characters', 'INVALID_ARGUMENT', () => sock().connect(['h'.repeat(300), 443])],
  ['port 0', 'INVALID_ARGUMENT', () => sock().connect(['a.test', 0])],
  ['port 65536', 'INVALID_ARGUMENT', () => sock().connect(['a.test', 65_536])],
  ['port -1', 'INVALID_ARGUMENT', () => sock().connect(['a.test', -1])],
  ['port 1.5', 'INVALID_ARGUMENT', () => sock().connect(['a.test', 1.5])],
  ['port NaN', 'INVALID_ARGUMENT', () => sock().connect(['a.test', Number.NaN])],
  ['address not a pair', 'INVALID_ARGUMENT', () => sock().connect(['a.test'] as unknown as [string, number])],
  ['getaddrinfo host with a quote', 'INVALID_ARGUMENT', () => modem.usocket.getaddrinfo('x"y', 80)],
  ['getaddrinfo port 70000', 'INVALID_ARGUMENT', () => modem.usocket.getaddrinfo('localhost', 70_000)],
  ['server_hostname with a quote', 'INVALID_ARGUMENT', () => wrap({ server_hostname: 'x","y' })],
  ['server_hostname with CR LF', 'INVALID_ARGUMENT', () => wrap({ server_hostname: 'x\r\nAT+QPOWD' })],
  ['cert that is not PEM', 'CERT_INVALID', () => wrap({ cert: 'hello', key: pki.client.key })],
  ['cert with a broken body', 'CERT_INVALID', () => wrap({ cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: pki.client.key })],
  ['key that does not match the certificate', 'CERT_INVALID', () => wrap({ cert: pki.client.cert, key: keyOfOther() })],
  ['cert without key', 'CERT_INVALID', () => wrap({ cert: pki.client.cert })],
  ['key without cert', 'CERT_INVALID', () => wrap({ key: pki.client.key })],
  ['key that is a certificate', 'CERT_INVALID', () => wrap({ cert: pki.client.cert, key: pki.client.cert })],
  ['encrypted key', 'CERT_INVALID', () => wrap({ cert: pki.client.cert, key: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n' })],
  ['cadata that is a leaf, not a CA', 'CERT_INVALID', () => wrap({ cadata: pki.serverRsa.cert })],
  ['cadata of 2 MiB of garbage', 'CERT_INVALID', () => wrap({ cadata: 'x'.repeat(2 * 1024 * 1024) })],
  ['unknown cipher name', 'CIPHER_UNSUPPORTED', () => wrap({ ciphers: 'TLS_MADE_UP_WITH_ROT13' })],
  ['cipher code out of range', 'CIPHER_UNSUPPORTED', () => wrap({ ciphers: 0x1_0000 })],
  ['two suites but not all', 'CIPHER_UNSUPPORTED', () => wrap({ ciphers: ['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA'] })],
  ['a suite this firmware does not offer', 'CIPHER_UNSUPPORTED', () => wrap({ ciphers: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' })],
  ['TLS 1.3', 'TLS_VERSION_UNSUPPORTED', () => wrap({ min_version: 'TLSv1.3' })],
  ['TLS 1.1 to 1.2', 'TLS_VERSION_UNSUPPORTED', () => wrap({ min_version: 'TLSv1.1', max_version: 'TLSv1.2' })],
  ['an unknown version name', 'TLS_VERSION_UNSUPPORTED', () => wrap({ max_version: 'TLSv9' })],
  ['cert_reqs REQUIRED without cadata', 'INVALID_ARGUMENT', () => wrap({ cert_reqs: 2 })],
  ['cert_reqs 7', 'INVALID_ARGUMENT', () => wrap({ cert_reqs: 7, cadata: pki.ca.cert })],
  ['negotiate_timeout 5 s', 'INVALID_ARGUMENT', () => wrap({ negotiate_timeout: 5 })],
  ['wrap_socket of something else', 'INVALID_ARGUMENT', () => modem.ussl.wrap_socket({} as Socket)],
  ['recv(-1)', 'INVALID_ARGUMENT', () => sock().recv(-1)],
  ['recv(2 ** 40)', 'INVALID_ARGUMENT', () => sock().recv(2 ** 40)],
  ['read(1.5)', 'INVALID_ARGUMENT', () => sock().read(1.5)],
  ['settimeout(-1)', 'INVALID_ARGUMENT', () => sock().settimeout(-1)],
  ['send of a number', 'INVALID_ARGUMENT', () => sock().send(42 as unknown as string)],
  ['recv on a socket never connected', 'OS_ERROR', () => sock().recv(10)],
];

test(`${CASES.length} bad inputs: each a clear error, and no command sent`, async () => {
  expect(CASES.length).toBeGreaterThanOrEqual(30);
  const problems: string[] = [];
  for (const [name, code, run] of CASES) {
    commands.length = 0;
    let outcome: unknown = 'no error';
    try {
      await run();
    } catch (e) {
      outcome = e;
    }
    if (!isQuectelError(outcome) || outcome.code !== code) problems.push(`${name}: expected ${code}, got ${outcome instanceof Error ? `${(outcome as { code?: string }).code} ${outcome.message}` : String(outcome)}`);
    if (commands.length > 0) problems.push(`${name}: sent ${commands.join(', ')}`);
  }
  expect(problems).toEqual([]);
});
