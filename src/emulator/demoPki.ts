/**
 * A throw-away PKI made in-process (`node:crypto` keys, `@peculiar/x509` certificates), so the demo, the ported
 * examples and a user's first try need nothing but Node: a CA, a server certificate for the demo's names, and a
 * client certificate. RSA keys, because every BG96 suite (its 0XFFFF means its 13) authenticates with RSA.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A certificate and its private key, PEM. */
export interface DemoCredential {
  readonly cert: string;
  readonly key: string;
}

/** The demo PKI. */
export interface DemoPki {
  /** The root that issued the other two; give it as `cadata` to verify the demo servers. */
  readonly ca: DemoCredential;
  /** For the demo servers: every name asked for, and 127.0.0.1. */
  readonly server: DemoCredential;
  /** For two-way TLS: CN `ussl-bridge demo client`. */
  readonly client: DemoCredential;
}

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

const serial = () => webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '01');

async function pemKey(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** Makes the PKI; `names` go into the server certificate's subjectAltName. Valid from a minute ago for a day. */
export async function makeDemoPki(names: readonly string[]): Promise<DemoPki> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const [caKeys, serverKeys, clientKeys] = await Promise.all([0, 1, 2].map(() =>
    webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>));
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: 'CN=ussl-bridge demo CA', notBefore, notAfter, keys: caKeys!, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const issue = (name: string, keys: CryptoKeyPair, extensions: x509.Extension[]) => x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: name, issuer: ca.subject, notBefore, notAfter, publicKey: keys.publicKey,
    signingKey: caKeys!.privateKey, signingAlgorithm: ALG, extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions],
  });
  const server = await issue(`CN=${names[0] ?? 'localhost'}`, serverKeys!, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([...names.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }]),
  ]);
  const client = await issue('CN=ussl-bridge demo client', clientKeys!, [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]);
  return {
    ca: { cert: ca.toString('pem'), key: await pemKey(caKeys!) },
    server: { cert: server.toString('pem'), key: await pemKey(serverKeys!) },
    client: { cert: client.toString('pem'), key: await pemKey(clientKeys!) },
  };
}
