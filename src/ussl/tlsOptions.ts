/**
 * `wrap_socket`'s options → what the module is asked to do: the SSL context's settings (`AT+QSSLCFG`, §2.2), the
 * files it needs, and how to open. Everything is checked here, before any command goes out; what the module cannot
 * express (two cipher suites but not all, TLS 1.1–1.2 but not 1.0) is an error, never a silent fallback.
 */
import { QuectelError } from '../errors.js';
import type { ModuleInfo } from '../modem/ModemOptions.js';
import { hostName } from '../modem/services/DnsService.js';
import type { ReceiveMode } from '../modem/services/Connection.js';
import type { SslSettings } from '../modem/services/SslContextService.js';
import { ALL_CIPHER_SUITES, CIPHER_SUITES, cipherSuiteByCode, formatCipherCode } from '../protocol/cipherSuites.js';
import { prepareCredentials, type Credential, type PemInput } from './credentials.js';

/** `ussl.CERT_NONE`, `CERT_OPTIONAL`, `CERT_REQUIRED` (CPython's values). */
export const CERT_NONE = 0;
export const CERT_OPTIONAL = 1;
export const CERT_REQUIRED = 2;

/** Protocol versions as CPython's `TLSVersion` names them. */
export type TlsVersion = 'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** `ussl.wrap_socket`'s options: the seed's (`server_hostname`, `cert`, `key`) and what CPython users expect. */
export interface WrapSocketOptions {
  /**
   * The server's name: it is the address `AT+QSSLOPEN` gets, so the module resolves it, sends it as SNI and checks
   * the certificate against it. Default: the address the socket was connected to.
   */
  readonly server_hostname?: string;
  /** The client certificate (and its chain), PEM. With `key`: two-way authentication (`seclevel` 2). */
  readonly cert?: PemInput;
  /** The client certificate's private key, PEM, unencrypted. */
  readonly key?: PemInput;
  /** CA certificates, PEM, to verify the server against (`seclevel` 1). */
  readonly cadata?: PemInput;
  /** `CERT_NONE`, `CERT_OPTIONAL`, `CERT_REQUIRED`. Default: `CERT_REQUIRED` with `cadata`, else `CERT_NONE`. */
  readonly cert_reqs?: number;
  /**
   * Check the certificate's host name, where the firmware has a switch for it (`checkhost`). Default: true when
   * verifying; `false` on firmware without the switch is `NOT_SUPPORTED`.
   */
  readonly check_hostname?: boolean;
  /**
   * One suite, by IANA name (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`), OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`)
   * or code (`0xC02F`); or a list naming every suite the firmware offers. Default: all it offers (`0XFFFF`).
   */
  readonly ciphers?: string | number | ReadonlyArray<string | number>;
  /** Lowest and highest protocol version. The module takes one version or all up to TLS 1.2. Default: all. */
  readonly min_version?: TlsVersion;
  readonly max_version?: TlsVersion;
  /** Send the host name as SNI, where the firmware has the switch (`sni`). Default: true; `false` without the switch is `NOT_SUPPORTED`. */
  readonly sni?: boolean;
  /** Do not check certificate dates against the module clock. Default: true, or false with `set_clock`. */
  readonly ignore_local_time?: boolean;
  /** Seconds the handshake may take (`negotiatetime`, 10–300). Default: 300. */
  readonly negotiate_timeout?: number;
  /** Set the module clock from the host (`AT+CCLK`) before opening, so certificate dates verify. Default: false. */
  readonly set_clock?: boolean;
  /**
   * The module's access mode for the connection. `buffer` (0): the module keeps received bytes and the library reads
   * them with `AT+QSSLRECV` after the recv URC, never holding more than its bound. `push` (1): the bytes come inside
   * the URC, with no read commands. `transparent` (2): after `CONNECT` the serial line is the TLS stream both ways
   * until the socket closes (a guarded `+++`, then `AT+QSSLCLOSE`); the port carries nothing else meanwhile, so no
   * other connection may be open on it and the modem needs `dataModeUrcPort` (or an `atPort` URCs do not go to).
   * Default: buffer.
   */
  readonly receive?: ReceiveMode;
}

/** What a wrap needs, worked out from its options. */
export interface TlsPlan {
  readonly files: readonly Credential[];
  /** Settings without the paths, which depend on the family's file naming. */
  readonly settings: Omit<SslSettings, 'cacert' | 'clientcert' | 'clientkey'>;
  readonly serverHostname: string | undefined;
  readonly setClock: boolean;
  readonly receive: ReceiveMode;
  /** How long the open may take in all: the network part (150 s, §3) and the negotiation. */
  readonly openTimeoutMs: number;
}

const VERSION_CODE: Readonly<Record<Exclude<TlsVersion, 'TLSv1.3'>, number>> = { SSLv3: 0, TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3 };
const ORDER: readonly TlsVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function sslVersion(min: TlsVersion | undefined, max: TlsVersion | undefined): number {
  for (const v of [min, max]) {
    if (v !== undefined && !ORDER.includes(v)) throw new QuectelError('TLS_VERSION_UNSUPPORTED', `unknown TLS version ${JSON.stringify(v)}; use one of ${ORDER.join(', ')}`);
  }
  if (min === 'TLSv1.3' || max === 'TLSv1.3') {
    throw new QuectelError('TLS_VERSION_UNSUPPORTED', 'the module\'s SSL stack offers no TLS 1.3 (AT+QSSLCFG "sslversion" lists SSL 3.0 to TLS 1.2)');
  }
  if (min === undefined && max === undefined) return 4;
  const lo = ORDER.indexOf(min ?? 'SSLv3');
  const hi = ORDER.indexOf(max ?? 'TLSv1.2');
  if (lo > hi) throw new QuectelError('TLS_VERSION_UNSUPPORTED', `min_version ${min} is above max_version ${max}`);
  if (lo === hi) return VERSION_CODE[ORDER[lo] as Exclude<TlsVersion, 'TLSv1.3'>];
  // "4: all" is the only range the module can be given (§2.2).
  if (lo <= ORDER.indexOf('TLSv1') && hi === ORDER.indexOf('TLSv1.2')) return 4;
  throw new QuectelError('TLS_VERSION_UNSUPPORTED',
    `the module takes one protocol version or all of them; ${min ?? 'SSLv3'}–${max ?? 'TLSv1.2'} cannot be expressed`);
}

function suiteCode(c: string | number): number {
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0 || c > 0xffff) throw new QuectelError('CIPHER_UNSUPPORTED', `cipher code ${c} is not a 16-bit suite code`);
    return c;
  }
  if (typeof c !== 'string') throw new QuectelError('CIPHER_UNSUPPORTED', `a cipher is a name or a code, not ${typeof c}`);
  if (/^0x[0-9a-f]{1,4}$/i.test(c)) return Number.parseInt(c.slice(2), 16);
  const suite = CIPHER_SUITES.find((s) => s.name === c || (s.openssl !== undefined && s.openssl === c));
  if (!suite) throw new QuectelError('CIPHER_UNSUPPORTED', `unknown cipher suite ${JSON.stringify(c)} (see \`ussl-bridge ciphers\`)`, { cipher: c });
  return suite.code;
}

function cipherSetting(ciphers: WrapSocketOptions['ciphers'], offered: readonly number[]): number {
  if (ciphers === undefined) return ALL_CIPHER_SUITES;
  const codes = [...new Set((Array.isArray(ciphers) ? ciphers : [ciphers]).map(suiteCode))];
  if (codes.length === 0) throw new QuectelError('CIPHER_UNSUPPORTED', 'ciphers names no suite');
  if (codes.length === 1 && codes[0] === ALL_CIPHER_SUITES) return ALL_CIPHER_SUITES;
  for (const code of codes) {
    if (!offered.includes(code)) {
      const name = cipherSuiteByCode(code)?.name ?? formatCipherCode(code);
      throw new QuectelError('CIPHER_UNSUPPORTED', `this firmware does not offer ${name} (${formatCipherCode(code)})`, { cipher: code });
    }
  }
  if (codes.length === 1) return codes[0]!;
  if (codes.length === offered.length) return ALL_CIPHER_SUITES;
  // §2.3: no syntax for several suites in one command was found; one suite or 0XFFFF is what modules take.
  throw new QuectelError('CIPHER_UNSUPPORTED',
    `the module takes one cipher suite or all it offers, not ${codes.length} of its ${offered.length}`, { count: codes.length });
}

const flag = (on: boolean): 0 | 1 => (on ? 1 : 0);

/**
 * Works out a wrap from its options and what the module offers.
 * @throws QuectelError `NOT_SUPPORTED` (no SSL AT commands: BC25), `INVALID_ARGUMENT`, `CERT_INVALID`,
 *   `CIPHER_UNSUPPORTED`, `TLS_VERSION_UNSUPPORTED`.
 */
export function planTls(o: WrapSocketOptions, info: ModuleInfo): TlsPlan {
  if (!info.ssl) {
    throw new QuectelError('NOT_SUPPORTED', `ussl is not supported on ${info.model}: its firmware has no SSL AT commands (AT+QSSLCFG)`, { model: info.model });
  }
  if (typeof o !== 'object' || o === null) throw new QuectelError('INVALID_ARGUMENT', 'wrap_socket options must be an object');
  if (o.server_hostname !== undefined) hostName(o.server_hostname);
  const reqs = o.cert_reqs ?? (o.cadata !== undefined ? CERT_REQUIRED : CERT_NONE);
  if (reqs !== CERT_NONE && reqs !== CERT_OPTIONAL && reqs !== CERT_REQUIRED) {
    throw new QuectelError('INVALID_ARGUMENT', `cert_reqs must be CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED, got ${String(reqs)}`);
  }
  if (reqs !== CERT_NONE && o.cadata === undefined) {
    throw new QuectelError('INVALID_ARGUMENT', 'verifying the server needs cadata: the module checks certificates against a CA file only');
  }
  const negotiate = o.negotiate_timeout ?? 300;
  if (!Number.isInteger(negotiate) || negotiate < 10 || negotiate > 300) {
    throw new QuectelError('INVALID_ARGUMENT', `negotiate_timeout must be 10-300 seconds, got ${String(negotiate)}`);
  }
  if (o.receive !== undefined && o.receive !== 'buffer' && o.receive !== 'push' && o.receive !== 'transparent') {
    throw new QuectelError('INVALID_ARGUMENT', `receive must be 'buffer', 'push' or 'transparent', got ${JSON.stringify(o.receive)}`);
  }
  const files = prepareCredentials(o);
  const verifying = reqs !== CERT_NONE;
  const twoWay = o.cert !== undefined;
  const has = (p: string) => info.sslParams.includes(p);
  // Turning a check off on firmware that has no switch for it would be silently ignored: refuse instead.
  if (o.check_hostname === false && verifying && !has('checkhost')) {
    throw new QuectelError('NOT_SUPPORTED', `check_hostname: false needs the "checkhost" switch, which this ${info.model} firmware lacks (AT+QSSLCFG=?)`,
      { model: info.model, param: 'checkhost' });
  }
  if (o.sni === false && !has('sni')) {
    throw new QuectelError('NOT_SUPPORTED', `sni: false needs the "sni" switch, which this ${info.model} firmware lacks (AT+QSSLCFG=?)`,
      { model: info.model, param: 'sni' });
  }
  const settings: TlsPlan['settings'] = {
    sslversion: sslVersion(o.min_version, o.max_version),
    ciphersuite: cipherSetting(o.ciphers, info.cipherSuites),
    seclevel: twoWay ? 2 : verifying ? 1 : 0,
    ignorelocaltime: flag(o.ignore_local_time ?? o.set_clock !== true),
    negotiatetime: negotiate,
    ...(has('sni') ? { sni: flag(o.sni ?? true) } : {}),
    ...(has('checkhost') ? { checkhost: flag(verifying && (o.check_hostname ?? true)) } : {}),
  };
  return {
    files, settings, serverHostname: o.server_hostname, setClock: o.set_clock === true, receive: o.receive ?? 'buffer',
    openTimeoutMs: 150_000 + negotiate * 1000,
  };
}
