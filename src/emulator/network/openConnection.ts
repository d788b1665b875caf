/**
 * Real networking behind `AT+QIOPEN` and `AT+QSSLOPEN`: name resolution the module's way, a `node:net` connection,
 * and for SSL a `node:tls` session configured from the SSL context (quectel-at.md §2.2, §10 item 8).
 *
 * Verification is the module's, not Node's: Node's checks are switched off and the emulator checks the chain
 * against the CA file in UFS, the validity period against the module clock (unless `ignorelocaltime`), and the
 * host name, so that `seclevel`, `ignorelocaltime` and `AT+CCLK` mean what they mean on a module.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { cipherSuiteByCode, openSslCipherList, ALL_CIPHER_SUITES } from '../../protocol/cipherSuites.js';
import type { ModuleCore, SslContext, SslParamValue } from '../ModuleCore.js';
import type { OpenFailure } from '../models.js';
import { SSL_PARAMS, type SslParamName } from '../sslParams.js';
import { UfsStore } from '../UfsStore.js';

export type OpenOutcome =
  | { readonly ok: true; readonly socket: Socket; readonly ip: string }
  | { readonly ok: false; readonly failure: OpenFailure; readonly detail: string };

/** How long a TCP connect may take before the open fails with a timeout: the manual's 150 s. */
const CONNECT_TIMEOUT_MS = 150_000;

/** Reads a setting of an SSL context, falling back to the parameter's default. */
export function sslSetting(ctx: SslContext | undefined, name: SslParamName): SslParamValue {
  const v = ctx?.get(name);
  if (v !== undefined) return v;
  const spec = SSL_PARAMS[name];
  if (spec.kind === 'int' || spec.kind === 'cipher') return spec.def;
  return spec.kind === 'string' ? (spec.def === '' ? [] : [spec.def]) : [];
}

const num = (ctx: SslContext | undefined, name: SslParamName) => {
  const v = sslSetting(ctx, name);
  return typeof v === 'number' ? v : 0;
};
const text = (ctx: SslContext | undefined, name: SslParamName): string | undefined => {
  const v = sslSetting(ctx, name);
  return typeof v === 'number' ? undefined : v[0];
};

const fail = (failure: OpenFailure, detail: string): OpenOutcome => ({ ok: false, failure, detail });

/**
 * Keeps a socket from crashing the process between the open and the moment a connection takes it over: an error
 * then (the peer resets during the handshake latency) only destroys it, which the connection notices.
 */
function quiet(socket: Socket): void {
  socket.removeAllListeners('error');
  socket.on('error', () => socket.destroy());
}

/** Runs `body` with an abort hook: when `signal` aborts (close, reboot, dispose), `onAbort` tears the attempt down. */
function abortable(signal: AbortSignal | undefined, body: (settle: (o: OpenOutcome) => void, onAbort: (fn: () => void) => void) => void): Promise<OpenOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let teardown: (() => void) | undefined;
    const settle = (o: OpenOutcome) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', abort);
      resolve(o);
    };
    const abort = () => {
      teardown?.();
      settle(fail('connect', 'aborted'));
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    body(settle, (fn) => {
      teardown = fn;
    });
  });
}

/** Resolves and connects a plain TCP socket; `signal` abandons the attempt (the socket and its timer go). */
export async function openTcp(core: ModuleCore, host: string, port: number, signal?: AbortSignal): Promise<OpenOutcome> {
  let target;
  try {
    target = await core.resolve(host, port);
  } catch (e) {
    return fail('dns', `cannot resolve ${host}: ${(e as Error).message}`);
  }
  return abortable(signal, (settle, onAbort) => {
    const socket = netConnect({ host: target.ip, port: target.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      settle(fail('timeout', 'connect timed out'));
    }, CONNECT_TIMEOUT_MS);
    onAbort(() => {
      clearTimeout(timer);
      socket.destroy();
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      quiet(socket);
      settle({ ok: true, socket, ip: target.ip });
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      settle(fail('connect', e.message));
    });
  });
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function fileText(core: ModuleCore, path: string | undefined): string | undefined {
  const key = path === undefined || path === '' ? undefined : UfsStore.key(path);
  return key === undefined ? undefined : core.ufs.get(key)?.toString('latin1');
}

function versions(sslversion: number, tls13Suite: boolean): { minVersion: SecureVersion; maxVersion: SecureVersion } | undefined {
  // TLS 1.3 is not among the module's versions (§2.2); a TLS 1.3 suite chosen explicitly implies it.
  if (tls13Suite) return { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
  switch (sslversion) {
    case 1: return { minVersion: 'TLSv1', maxVersion: 'TLSv1' };
    case 2: return { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' };
    case 3: return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
    case 4: return { minVersion: 'TLSv1', maxVersion: 'TLSv1.2' };
    default: return undefined; // SSL 3.0: Node's OpenSSL has no SSLv3, so the handshake fails as it would against any modern server.
  }
}

/** Checks the peer chain against the trusted CAs, and each certificate's validity at `at` (skipped when undefined). */
export function verifyChain(peer: readonly X509Certificate[], cas: readonly X509Certificate[], at: Date | undefined): string | undefined {
  const timeOk = (c: X509Certificate) =>
    at === undefined || (new Date(c.validFrom) <= at && at <= new Date(c.validTo));
  let cert = peer[0];
  for (let depth = 0; cert && depth < 10; depth++) {
    if (!timeOk(cert)) return 'certificate outside its validity period';
    // A trusted certificate ends the chain only if it is a self-signed root; a trusted leaf is not a trust anchor
    // (mbedTLS and OpenSSL without partial chains look for the issuer).
    if (cas.some((ca) => ca.fingerprint256 === cert!.fingerprint256 && isSelfSigned(ca))) return undefined;
    const anchor = cas.find((ca) => ca.ca && cert!.checkIssued(ca) && cert!.verify(ca.publicKey));
    if (anchor) return timeOk(anchor) ? undefined : 'CA certificate outside its validity period';
    const next: X509Certificate | undefined = peer.find((p) => p !== cert && p.ca && cert!.checkIssued(p) && cert!.verify(p.publicKey));
    if (!next || next.fingerprint256 === cert.fingerprint256) return 'unable to get local issuer certificate';
    cert = next;
  }
  return 'certificate chain too long or empty';
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

function peerChain(sock: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: PeerCertificate | undefined = sock.getPeerCertificate(true);
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return out;
}

/** Resolves, connects and runs the TLS handshake as the SSL context says; `host` is the QSSLOPEN `<serveraddr>`. */
export async function openTls(core: ModuleCore, host: string, port: number, ctx: SslContext | undefined, signal?: AbortSignal): Promise<OpenOutcome> {
  const profile = core.profile.ssl!;
  const seclevel = num(ctx, 'seclevel');
  const cipher = num(ctx, 'ciphersuite');
  const suite = cipher === ALL_CIPHER_SUITES ? undefined : cipherSuiteByCode(cipher);
  const range = versions(num(ctx, 'sslversion'), suite?.tls13 ?? false);
  if (!range) return fail('handshake', 'SSL 3.0 is not available');
  const cipherList = cipher === ALL_CIPHER_SUITES
    ? profile.cipherCodes.map((c) => openSslCipherList(c)).filter((n): n is string => n !== undefined).join(':')
    : openSslCipherList(cipher);
  if (cipherList === undefined && !suite?.tls13) return fail('handshake', 'no OpenSSL suite for the configured code');

  const tlsOptions: ConnectionOptions = {
    ...range,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ...(suite?.tls13 ? { ciphers: 'ALL:@SECLEVEL=0', ...(suite.openssl ? { ciphersuites: suite.openssl } : {}) }
      : { ciphers: `${cipherList}:@SECLEVEL=0` }),
  };
  let cas: X509Certificate[] = [];
  // Whether seclevel 2 sends a client certificate with no CA configured is not known (§2.5, §11 item 3): the
  // module's `clientCertWithoutCa` says which firmware this is. 'send': no server check, the certificate is sent.
  const verifyServer = seclevel === 1 || (seclevel === 2 && (core.clientCertWithoutCa === 'refuse' || text(ctx, 'cacert') !== undefined));
  if (verifyServer) {
    const pem = fileText(core, text(ctx, 'cacert'));
    // EG800K: seclevel 1 without a CA file fails the open (T15).
    if (pem === undefined) return fail('certificate', 'seclevel needs a CA file in UFS');
    try {
      cas = (pem.match(PEM_CERT) ?? []).map((p) => new X509Certificate(p));
    } catch {
      return fail('certificate', 'CA file is not a PEM certificate');
    }
    if (cas.length === 0) return fail('certificate', 'CA file holds no certificate');
  }
  if (seclevel === 2) {
    const cert = fileText(core, text(ctx, 'clientcert'));
    const key = fileText(core, text(ctx, 'clientkey'));
    if (cert === undefined || key === undefined) return fail('certificate', 'seclevel 2 needs clientcert and clientkey in UFS');
    const keyValue = sslSetting(ctx, 'clientkey');
    const passphrase = typeof keyValue === 'number' ? undefined : keyValue[1];
    Object.assign(tlsOptions, { cert, key, ...(passphrase ? { passphrase } : {}) });
  }
  const sni = profile.params.includes('sni') && num(ctx, 'sni') === 1 && isIP(host) === 0;
  if (sni) tlsOptions.servername = host;
  const alpn = text(ctx, 'alpn');
  if (alpn) tlsOptions.ALPNProtocols = alpn.split(',');

  const tcp = await openTcp(core, host, port, signal);
  if (!tcp.ok) return tcp;
  if (signal?.aborted) {
    tcp.socket.destroy(); // given up between the TCP connect and the handshake
    return fail('connect', 'aborted');
  }
  const negotiateMs = num(ctx, 'negotiatetime') * 1000;

  return abortable(signal, (settle, onAbort) => {
    let sock: TLSSocket;
    try {
      sock = tlsConnect({ ...tlsOptions, socket: tcp.socket });
    } catch (e) {
      tcp.socket.destroy();
      return settle(fail('handshake', (e as Error).message));
    }
    // Destroying the TLS socket alone can leave the TCP socket under it open: end both.
    const kill = () => {
      sock.destroy();
      tcp.socket.destroy();
    };
    const timer = setTimeout(() => {
      kill();
      settle(fail('timeout', 'handshake did not finish within negotiatetime'));
    }, negotiateMs);
    onAbort(() => {
      clearTimeout(timer);
      kill();
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      kill();
      settle(fail('handshake', e.message));
    });
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const problem = verifyServer ? checkPeer(core, sock, cas, host, ctx) : undefined;
      if (problem) {
        kill();
        return settle(fail('certificate', problem));
      }
      quiet(sock);
      settle({ ok: true, socket: sock, ip: tcp.ip });
    });
  });
}

function checkPeer(core: ModuleCore, sock: TLSSocket, cas: X509Certificate[], host: string, ctx: SslContext | undefined): string | undefined {
  const at = num(ctx, 'ignorelocaltime') === 1 ? undefined : core.now();
  const chainProblem = verifyChain(peerChain(sock), cas, at);
  if (chainProblem) return chainProblem;
  // Host check: always where the firmware has no `checkhost` switch (EG800K rejects a wrong host, T15);
  // where it has one, only when it is on (INFER).
  const params = core.profile.ssl!.params;
  if (params.includes('checkhost') && num(ctx, 'checkhost') !== 1) return undefined;
  const err = checkServerIdentity(host, sock.getPeerCertificate());
  return err ? err.message : undefined;
}
