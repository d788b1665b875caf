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
const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const END = /^-----END ([A-Z0-9 ]+)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;
/** RFC 1421 headers inside a block, as OpenSSL writes for traditional encrypted keys (`Proc-Type`, `DEK-Info`). */
const HEADER = /^([A-Za-z0-9-]+):\s*(.*)$/;

const invalid = (what: string, message: string) => new QuectelError('CERT_INVALID', `${what}: ${message}`, { what });

interface PemBlock {
  readonly label: string;
  /** The block re-wrapped in 64-column lines, without headers. */
  readonly pem: string;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * The PEM blocks of `input`, read line by line (linear in the input, whatever it holds). Text between blocks is
 * allowed (bundles carry comments); inside a block every line must be base64 or a header before the body, and
 * every block must end with its own END line: a damaged or truncated block is refused, never skipped.
 */
function blocks(input: PemInput, what: string): PemBlock[] {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw invalid(what, 'must be PEM text (a string or bytes)');
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const out: PemBlock[] = [];
  let open: { label: string; line: number; body: string[]; headers: Map<string, string> } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const where = `line ${i + 1}`;
    if (!open) {
      const begin = BEGIN.exec(line);
      if (begin) open = { label: begin[1]!, line: i + 1, body: [], headers: new Map() };
      else if (line.startsWith('-----END')) throw invalid(what, `${where}: an END line with no BEGIN before it`);
      continue;
    }
    const end = END.exec(line);
    if (end) {
      if (end[1] !== open.label) throw invalid(what, `${where}: the ${open.label} block begun on line ${open.line} ends as ${end[1]}`);
      out.push(finish(open, what));
      open = undefined;
    } else if (line.startsWith('-----')) {
      throw invalid(what, `the ${open.label} block begun on line ${open.line} has no END line (truncated?)`);
    } else if (line === '') {
      continue;
    } else if (open.body.length === 0 && HEADER.test(line)) {
      const [, name, value] = HEADER.exec(line)!;
      open.headers.set(name!.toLowerCase(), value!);
    } else if (BASE64_LINE.test(line)) {
      open.body.push(line);
    } else {
      throw invalid(what, `${where}: the ${open.label} block is damaged (a character that is not base64)`);
    }
  }
  if (open) throw invalid(what, `the ${open.label} block begun on line ${open.line} has no END line (truncated?)`);
  if (out.length === 0) throw invalid(what, 'no PEM block (-----BEGIN …-----) found');
  return out;
}

function finish(block: { label: string; line: number; body: string[]; headers: Map<string, string> }, what: string): PemBlock {
  const body = block.body.join('');
  if (body === '') throw invalid(what, `an empty ${block.label} block`);
  const pad = body.indexOf('=');
  if (body.length % 4 !== 0 || (pad >= 0 && (pad < body.length - 2 || !/^=+$/.test(body.slice(pad))))) {
    throw invalid(what, `the ${block.label} block begun on line ${block.line} is damaged (its base64 does not decode)`);
  }
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  return { label: block.label, headers: block.headers, pem: `-----BEGIN ${block.label}-----\n${lines.join('\n')}\n-----END ${block.label}-----\n` };
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
  const { label, pem, headers } = found[0]!;
  if (label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(headers.get('proc-type') ?? '')) {
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
