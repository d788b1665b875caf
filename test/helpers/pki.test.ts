import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { CA_CN, CLIENT_CN, EXPIRED_NOT_AFTER, WRONG_HOST, makePki, type Pki } from './pki.js';

let pki: Pki;

afterAll(async () => {
  await pki?.cleanup();
});

const x509 = (pem: string): X509Certificate => new X509Certificate(pem);
const GOOD_SANS = 'DNS:localhost, DNS:myssl.test, IP Address:127.0.0.1';

describe('makePki', () => {
  test('is memoised: one directory per process', async () => {
    pki = await makePki();
    expect(await makePki()).toBe(pki);
    expect(existsSync(pki.dir)).toBe(true);
  });

  test('PEM strings and files agree', () => {
    for (const c of [pki.ca, pki.serverRsa, pki.serverEcdsa, pki.client, pki.expiredServer, pki.selfSignedServer,
      pki.wrongHostServer]) {
      expect(readFileSync(c.certPath, 'utf8')).toBe(c.cert);
      expect(readFileSync(c.keyPath, 'utf8')).toBe(c.key);
      expect(c.key.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
      expect(x509(c.cert).checkPrivateKey(createPrivateKey(c.key))).toBe(true);
    }
  });

  test('the CA is a self-signed RSA 2048 CA', () => {
    const ca = x509(pki.ca.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe(`CN=${CA_CN}`);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  test('the good servers carry the three SANs, are issued by the CA and valid now', () => {
    const ca = x509(pki.ca.cert);
    for (const c of [pki.serverRsa, pki.serverEcdsa]) {
      const cert = x509(c.cert);
      expect(cert.subjectAltName).toBe(GOOD_SANS);
      expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
      expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
      expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now());
      expect(cert.checkHost('myssl.test')).toBe('myssl.test');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    }
    expect(x509(pki.serverRsa.cert).publicKey.asymmetricKeyType).toBe('rsa');
    const ec = x509(pki.serverEcdsa.cert).publicKey;
    expect([ec.asymmetricKeyType, ec.asymmetricKeyDetails?.namedCurve]).toEqual(['ec', 'prime256v1']);
  });

  test('the client certificate is for client authentication only', () => {
    const cert = x509(pki.client.cert);
    expect(cert.subject).toBe(`CN=${CLIENT_CN}`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth
    expect(cert.verify(x509(pki.ca.cert).publicKey)).toBe(true);
  });

  test('the bad servers are bad in exactly one way each', () => {
    const ca = x509(pki.ca.cert);
    const expired = x509(pki.expiredServer.cert);
    expect(new Date(expired.validTo)).toEqual(EXPIRED_NOT_AFTER);
    expect(expired.verify(ca.publicKey)).toBe(true);
    expect(expired.subjectAltName).toBe(GOOD_SANS);

    const self = x509(pki.selfSignedServer.cert);
    expect(self.verify(ca.publicKey)).toBe(false);
    expect(self.verify(self.publicKey)).toBe(true);
    expect(self.subjectAltName).toBe(GOOD_SANS);

    const wrong = x509(pki.wrongHostServer.cert);
    expect(wrong.verify(ca.publicKey)).toBe(true);
    expect(wrong.subjectAltName).toBe(`DNS:${WRONG_HOST}`);
    expect(wrong.checkHost('localhost')).toBeUndefined();
  });

  test('cleanup removes the directory and the next call builds a new PKI', async () => {
    const first = pki;
    await first.cleanup();
    await first.cleanup(); // twice is fine
    expect(existsSync(first.dir)).toBe(false);
    pki = await makePki();
    expect(pki).not.toBe(first);
    expect(pki.dir).not.toBe(first.dir);
    expect(existsSync(pki.ca.certPath)).toBe(true);
  });
});
