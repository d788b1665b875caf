/**
 * A throw-away test PKI made with the `openssl` CLI: one CA and the certificates TLS tests need (good RSA and ECDSA
 * servers, a client, and three bad servers: expired, self-signed, wrong host).
 *
 * Generated once per process into a fresh temporary directory and removed when the process ends (normal exit or
 * SIGTERM/SIGINT/SIGHUP).
 */
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Names the good server certificates carry as `DNS:` SANs (they also carry `IP:127.0.0.1`). */
export const SERVER_HOSTS: readonly string[] = ['localhost', 'myssl.test'];
/** The only SAN of {@link Pki.wrongHostServer}. */
export const WRONG_HOST = 'wrong.test';
/** Common name of {@link Pki.client}. */
export const CLIENT_CN = 'ussl-client';
/** Common name of {@link Pki.ca}. */
export const CA_CN = 'ussl-bridge Test CA';
/** Validity of {@link Pki.expiredServer}: January 2020. */
export const EXPIRED_NOT_BEFORE = new Date('2020-01-01T00:00:00Z');
/** @see EXPIRED_NOT_BEFORE */
export const EXPIRED_NOT_AFTER = new Date('2020-02-01T00:00:00Z');

/** A certificate and its private key, as PEM text and as files in {@link Pki.dir}. */
export interface PkiCredential {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key, unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly key: string;
  /** Absolute path of the certificate file. */
  readonly certPath: string;
  /** Absolute path of the key file. */
  readonly keyPath: string;
}

/** The test PKI. Every certificate except {@link Pki.selfSignedServer} is issued by {@link Pki.ca}. */
export interface Pki {
  /** The temporary directory holding every file. */
  readonly dir: string;
  /** Root CA, RSA 2048, valid 10 years from now. */
  readonly ca: PkiCredential;
  /** Server, RSA 2048; SANs DNS:localhost, DNS:myssl.test, IP:127.0.0.1; serverAuth. */
  readonly serverRsa: PkiCredential;
  /** Server, ECDSA P-256; same SANs as {@link Pki.serverRsa}. */
  readonly serverEcdsa: PkiCredential;
  /** Client, RSA 2048; CN=ussl-client; clientAuth. */
  readonly client: PkiCredential;
  /**
   * Server with the good SANs, valid only in January 2020: verification says `CERT_HAS_EXPIRED`.
   * It shares its RSA key with {@link Pki.selfSignedServer} and {@link Pki.wrongHostServer}.
   */
  readonly expiredServer: PkiCredential;
  /** Self-signed server with the good SANs, not from the CA: `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly selfSignedServer: PkiCredential;
  /** Server from the CA whose only SAN is DNS:wrong.test: host check fails (`ERR_TLS_CERT_ALTNAME_INVALID`). */
  readonly wrongHostServer: PkiCredential;
  /**
   * Deletes the directory and forgets the memoised PKI, so the next {@link makePki} builds a new one. Optional:
   * the directory goes when the process exits. Safe to call twice.
   */
  cleanup(): Promise<void>;
}

// One config for every openssl call, so the machine's openssl.cnf changes nothing.
const CONFIG = `
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${[...SERVER_HOSTS.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(', ')}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ self_signed_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${[...SERVER_HOSTS.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(', ')}

[ wrong_host_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:${WRONG_HOST}

[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth

# Only for the expired certificate: OpenSSL 3.0's "x509 -req" has no -not_before/-not_after (added in 3.4), but
# "openssl ca" takes -startdate/-enddate.
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
`;

let memo: Promise<Pki> | undefined;
const dirsToRemove = new Set<string>();
let endHookInstalled = false;

/**
 * Removes the PKI directories when the process ends: on `exit`, and on SIGTERM/SIGINT/SIGHUP, because vitest
 * stops its fork workers with SIGTERM, whose default action skips `exit` handlers.
 */
function removeDirsAtProcessEnd(): void {
  if (endHookInstalled) return;
  endHookInstalled = true;
  const removeAll = (): void => {
    for (const dir of dirsToRemove) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort: an openssl child still writing into the directory can make the removal fail.
      }
    }
    dirsToRemove.clear();
  };
  process.once('exit', removeAll);
  const onSignal = (signal: NodeJS.Signals): void => {
    removeAll();
    // Nobody else handles the signal: raise it again so its default action ends the process as intended.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, onSignal);
}

/**
 * The test PKI, generated on the first call and shared by every later call in the process.
 * Takes one to two seconds on two cores (five key pairs in parallel, then the certificates).
 * @throws Error when `openssl` is missing or fails; the message holds its stderr.
 */
export function makePki(): Promise<Pki> {
  memo ??= generate().catch((e: unknown) => {
    memo = undefined;
    throw e;
  });
  return memo;
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') } });
  } catch (e) {
    const stderr = (e as { stderr?: unknown }).stderr;
    throw new Error(`openssl ${args[0]} failed: ${typeof stderr === 'string' ? stderr.trim() : String(e)}`, {
      cause: e,
    });
  }
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive and non-zero
  return `0x${b.toString('hex')}`;
}

async function generate(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'ussl-bridge-pki-'));
  dirsToRemove.add(dir);
  removeDirsAtProcessEnd();
  try {
    await writeFile(join(dir, 'openssl.cnf'), CONFIG);
    await mkdir(join(dir, 'ca-db'));
    await writeFile(join(dir, 'ca-db', 'index.txt'), '');
    await writeFile(join(dir, 'ca-db', 'serial'), '1000\n');

    const rsa = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    // RSA key generation dominates the run time (about 0.3 s of CPU each), so the three bad servers share one key.
    // genpkey writes PKCS#8 ("BEGIN PRIVATE KEY") for every algorithm.
    const keys = ['ca', 'server-rsa', 'server-ecdsa', 'client', 'bad-server'] as const;
    await Promise.all(
      keys.map((n) => openssl(dir, ['genpkey', ...(n === 'server-ecdsa' ? ec : rsa), '-out', `${n}.key`])),
    );

    await openssl(dir, [
      'req', '-x509', '-new', '-key', 'ca.key', '-subj', `/CN=${CA_CN}`, '-days', '3650', '-sha256',
      '-extensions', 'ca_ext', '-out', 'ca.pem',
    ]);

    const keyOf = (n: string): string => (['expired', 'self-signed', 'wrong-host'].includes(n) ? 'bad-server' : n);
    const csr = (n: string, cn: string): Promise<void> =>
      openssl(dir, ['req', '-new', '-key', `${keyOf(n)}.key`, '-subj', `/CN=${cn}`, '-out', `${n}.csr`]);
    const sign = async (n: string, cn: string, ext: string): Promise<void> => {
      await csr(n, cn);
      await openssl(dir, [
        'x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial(),
        '-days', '825', '-sha256', '-extfile', 'openssl.cnf', '-extensions', ext, '-out', `${n}.pem`,
      ]);
    };
    const stamp = (d: Date): string => `${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;

    await Promise.all([
      sign('server-rsa', 'localhost', 'server_ext'),
      sign('server-ecdsa', 'localhost', 'server_ext'),
      sign('client', CLIENT_CN, 'client_ext'),
      sign('wrong-host', WRONG_HOST, 'wrong_host_ext'),
      openssl(dir, [
        'req', '-x509', '-new', '-key', 'bad-server.key', '-subj', '/CN=localhost', '-days', '825', '-sha256',
        '-extensions', 'self_signed_ext', '-set_serial', serial(), '-out', 'self-signed.pem',
      ]),
      (async () => {
        await csr('expired', 'localhost');
        await openssl(dir, [
          'ca', '-batch', '-notext', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'expired.csr',
          '-startdate', stamp(EXPIRED_NOT_BEFORE), '-enddate', stamp(EXPIRED_NOT_AFTER),
          '-extensions', 'server_ext', '-extfile', 'openssl.cnf', '-out', 'expired.pem',
        ]);
      })(),
    ]);

    const load = async (n: string): Promise<PkiCredential> => {
      const certPath = join(dir, `${n}.pem`);
      const keyPath = join(dir, `${keyOf(n)}.key`);
      return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8'), certPath, keyPath };
    };
    const [ca, serverRsa, serverEcdsa, client, expiredServer, selfSignedServer, wrongHostServer] = await Promise.all(
      (['ca', 'server-rsa', 'server-ecdsa', 'client', 'expired', 'self-signed', 'wrong-host'] as const).map(load),
    );

    // The expired certificate is the one made by the least common route: check it really is expired.
    const notAfter = new Date(new X509Certificate(expiredServer!.cert).validTo);
    if (!(notAfter.getTime() < Date.now())) throw new Error(`expired test certificate is valid until ${notAfter}`);

    let cleaned = false;
    return {
      dir, ca: ca!, serverRsa: serverRsa!, serverEcdsa: serverEcdsa!, client: client!,
      expiredServer: expiredServer!, selfSignedServer: selfSignedServer!, wrongHostServer: wrongHostServer!,
      async cleanup(): Promise<void> {
        if (cleaned) return;
        cleaned = true;
        memo = undefined;
        await rm(dir, { recursive: true, force: true });
        dirsToRemove.delete(dir);
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    dirsToRemove.delete(dir);
    throw e;
  }
}
