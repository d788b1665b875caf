/**
 * Certificates and keys for `wrap_socket`, checked on the host with `node:crypto` before anything is sent: every
 * PEM block parses, the key matches the certificate, each CA certificate is a CA. Each goes to the module under a
 * name derived from its content (`ca3f9a1c.pem`, `cc…`, `ck…`: 8.3 names, as the FILE manual recommends, §6.1), so
 * the same material is uploaded once and found again by name and size.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { QuectelError } from '../errors.js';

/** What a file holds: CA certificates, the client certificate (and its chain), or the client key. */
export type CredentialKind = 'ca' | 'cert' | 'key';

/** One file to have on the module. */
export interface Credential {
  readonly kind: CredentialKind;
  /** The file name on the module, derived from the content. */
  readonly name: string;
  /** The bytes to upload: the PEM blocks, LF line ends, a final LF. */
  readonly data: Buffer;
  /** Key material: traces never show it. */
  readonly sensitive: boolean;
}

/** PEM text as a string or bytes. */
export type PemInput = string | Uint8Array;

const PREFIX: Readonly<Record<CredentialKind, string>> = { ca: 'ca', cert: 'cc', key: 'ck' };
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]*?)\s*-----END \1-----/g;

const invalid = (what: string, message: string) => new QuectelError('CERT_INVALID', `${what}: ${message}`, { what });

/** The PEM blocks of `input`, each re-wrapped in 64-column lines, with their labels. */
function blocks(input: PemInput, what: string): Array<{ label: string; pem: string }> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw invalid(what, 'must be PEM text (a string or bytes)');
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const out: Array<{ label: string; pem: string }> = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (body === '') throw invalid(what, `an empty ${m[1]} block`);
    const lines = body.match(/.{1,64}/g)!.join('\n');
    out.push({ label: m[1]!, pem: `-----BEGIN ${m[1]}-----\n${lines}\n-----END ${m[1]}-----\n` });
  }
  if (out.length === 0) throw invalid(what, 'no PEM block (-----BEGIN …-----) found');
  return out;
}

function certificates(input: PemInput, what: string): Array<{ pem: string; x509: X509Certificate }> {
  return blocks(input, what).map(({ label, pem }) => {
    if (label !== 'CERTIFICATE') throw invalid(what, `holds a ${label} block where a CERTIFICATE was expected`);
    try {
      return { pem, x509: new X509Certificate(pem) };
    } catch (e) {
      throw invalid(what, `a CERTIFICATE block does not parse (${(e as Error).message})`);
    }
  });
}

function privateKey(input: PemInput): { pem: string; key: KeyObject } {
  const found = blocks(input, 'key');
  if (found.length !== 1) throw invalid('key', `holds ${found.length} PEM blocks; give one private key`);
  const { label, pem } = found[0]!;
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(typeof input === 'string' ? input : '')) {
    throw invalid('key', 'an encrypted private key; give the key unencrypted');
  }
  if (!/PRIVATE KEY$/.test(label)) throw invalid('key', `holds a ${label} block where a PRIVATE KEY was expected`);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (e) {
    throw invalid('key', `does not parse as a private key (${(e as Error).message})`);
  }
}

function credential(kind: CredentialKind, pem: string, sensitive: boolean): Credential {
  const data = Buffer.from(pem, 'latin1');
  const hash = createHash('sha256').update(data).digest('hex').slice(0, 6);
  return { kind, name: `${PREFIX[kind]}${hash}.pem`, data, sensitive };
}

/**
 * Checks what `wrap_socket` was given and returns the files to have on the module.
 * @throws QuectelError `CERT_INVALID`: a block that does not parse, a key that does not match the certificate, a
 *   CA certificate that is not a CA, a certificate without its key or a key without its certificate.
 */
export function prepareCredentials(o: { readonly cadata?: PemInput; readonly cert?: PemInput; readonly key?: PemInput }): Credential[] {
  const out: Credential[] = [];
  if (o.cadata !== undefined) {
    const cas = certificates(o.cadata, 'cadata');
    const notCa = cas.find((c) => !c.x509.ca);
    if (notCa) throw invalid('cadata', `"${notCa.x509.subject.replace(/\n/g, ', ')}" is not a CA certificate (no CA:TRUE)`);
    out.push(credential('ca', cas.map((c) => c.pem).join(''), false));
  }
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw invalid(o.cert === undefined ? 'key' : 'cert', 'a client certificate needs its key, and a key its certificate');
  }
  if (o.cert !== undefined && o.key !== undefined) {
    const chain = certificates(o.cert, 'cert');
    const { pem: keyPem, key } = privateKey(o.key);
    if (!chain[0]!.x509.checkPrivateKey(key)) throw invalid('key', 'does not match the certificate\'s public key');
    out.push(credential('cert', chain.map((c) => c.pem).join(''), false), credential('key', keyPem, true));
  }
  return out;
}

/** File names this module gives its uploads, to list and remove them. */
export const CREDENTIAL_FILE = /^(?:ca|cc|ck)[0-9a-f]{6}\.pem$/;
