/** Attacks on certificate and key input: malformed PEM of every kind, bundles, huge and pathological input. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { isQuectelError } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { rig, runCleanups, settle } from './harness.js';

let pki: Pki;
let encryptedRsaKey: string;
let dir: string;
beforeAll(async () => {
  pki = await makePki();
  dir = mkdtempSync(join(tmpdir(), 'attack-certs-'));
  // A traditional (PKCS#1) key encrypted the OpenSSL way: Proc-Type and DEK-Info headers inside the block.
  execFileSync('openssl', ['genrsa', '-traditional', '-aes128', '-passout', 'pass:pw', '-out', join(dir, 'enc.pem'), '2048'], { stdio: 'ignore' });
  encryptedRsaKey = readFileSync(join(dir, 'enc.pem'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(runCleanups);

const body = (pem: string) => pem.split('\n').filter((l) => !l.startsWith('-----') && l !== '');

describe('malformed PEM is refused, never silently dropped', () => {
  test('a CA bundle with one damaged certificate (a stray character) is CERT_INVALID, not the other CAs alone', async () => {
    const { modem, commands } = await rig();
    const lines = body(pki.ca.cert);
    lines[3] = `${lines[3]!.slice(0, 10)}!${lines[3]!.slice(11)}`;
    const damaged = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
    const bundle = `# corporate CA (damaged in transit)\n${damaged}# public CA\n${pki.ca.cert}`;
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: bundle }));
    expect(r.ok ? 'accepted' : (r.error as { code?: string }).code).toBe('CERT_INVALID');
    void commands;
  });

  test('a CA bundle whose first certificate is truncated (no END line) is CERT_INVALID', async () => {
    const { modem } = await rig();
    const truncated = pki.ca.cert.slice(0, pki.ca.cert.length / 2);
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: `${truncated}\n${pki.ca.cert}` }));
    expect(r.ok ? 'accepted' : (r.error as { code?: string }).code).toBe('CERT_INVALID');
  });

  test('a client chain whose leaf is damaged is refused as damaged, not as "key does not match"', async () => {
    const { modem } = await rig();
    const lines = body(pki.client.cert);
    lines[2] = `${lines[2]!.slice(0, 5)}_${lines[2]!.slice(6)}`;
    const chain = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n${pki.ca.cert}`;
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cert: chain, key: pki.client.key }));
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.message).not.toMatch(/does not match/);
  });

  test('an encrypted PKCS#1 key (Proc-Type: 4,ENCRYPTED) is refused as encrypted', async () => {
    const { modem } = await rig();
    expect(encryptedRsaKey).toContain('Proc-Type: 4,ENCRYPTED');
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cert: pki.client.cert, key: encryptedRsaKey }));
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.message).toMatch(/encrypted/i);
  });
});

describe('pathological input', () => {
  test('a BEGIN line followed by 3000 blanks is refused in well under a second (no regex blow-up)', async () => {
    const { modem } = await rig();
    const input = `-----BEGIN CERTIFICATE-----${' '.repeat(3000)}x`;
    const t0 = Date.now();
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: input }));
    const ms = Date.now() - t0;
    expect(r.ok).toBe(false);
    expect(ms).toBeLessThan(1000);
  });

  test('Windows line ends, comments, the same CA twice, and an EC client key all work', async () => {
    const { modem } = await rig();
    const crlf = (s: string) => s.replace(/\n/g, '\r\n');
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), {
      cadata: `# root\r\n${crlf(pki.ca.cert)}\r\n# again\r\n${crlf(pki.ca.cert)}`,
      cert: crlf(pki.serverEcdsa.cert), key: crlf(pki.serverEcdsa.key),
    });
    expect(s.tls).toBeDefined();
  });

  test('a key that belongs to another certificate is CERT_INVALID', async () => {
    const { modem } = await rig();
    const r = await settle(modem.ussl.wrap_socket(modem.usocket.socket(), { cert: pki.client.cert, key: pki.serverRsa.key }));
    expect(!r.ok && isQuectelError(r.error, 'CERT_INVALID')).toBe(true);
  });
});
