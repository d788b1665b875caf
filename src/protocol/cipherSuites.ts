/**
 * The TLS cipher suites a Quectel module's SSL stack offers, as one typed table.
 *
 * Two sources feed it:
 * - the table at the end of QuecPython's `ussl` reference (the project's seed documents, Chinese and English
 *   editions list the same 80 rows in the same order; the last row is the renegotiation SCSV, not a suite);
 * - the BG96 `AT+QSSLCFG="ciphersuite"` test response (BG96 SSL AT Commands Manual V1.0 §2.1.1, T18; see
 *   quectel-at.md §2.2–2.3), which adds five RC4/3DES suites the seed table does not list.
 *
 * The OpenSSL names were taken once from `openssl ciphers -V -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'` on
 * OpenSSL 3.0.19 (node 20.20 bundles the same version) and are kept here as data. `undefined` means that build has
 * no such suite:
 * - static ECDH (`TLS_ECDH_*`): removed from OpenSSL in 1.1.0;
 * - Camellia-GCM (`*_CAMELLIA_*_GCM_*`): never implemented by OpenSSL;
 * - RC4 and 3DES (the BG96-only extras): compiled only with `enable-weak-ssl-ciphers`, which default builds and
 *   node's bundled OpenSSL leave out (their names there would be RC4-MD5, RC4-SHA, DES-CBC3-SHA,
 *   ECDHE-RSA-RC4-SHA, ECDHE-RSA-DES-CBC3-SHA);
 * - `TLS_EMPTY_RENEGOTIATION_INFO_SCSV`: a signalling value OpenSSL always sends, never a negotiable suite.
 */

/** Key exchange as the IANA name spells it; `ECDH` is static ECDH from the certificate, `none` marks the SCSV. */
export type KeyExchange = 'RSA' | 'DHE' | 'ECDHE' | 'ECDH' | 'any' | 'none';

/**
 * How the server proves its identity: the certificate's key type for RSA/DHE/ECDHE suites, the CA's signature
 * type for static ECDH (`TLS_ECDH_RSA_*`), `any` for TLS 1.3 suites, `none` for the SCSV.
 */
export type Authentication = 'RSA' | 'ECDSA' | 'any' | 'none';

/** One row of the table. */
export interface CipherSuite {
  /** IANA name, e.g. `TLS_RSA_WITH_AES_256_CBC_SHA`. */
  readonly name: string;
  /** IANA 16-bit code, e.g. `0x0035`. */
  readonly code: number;
  /**
   * OpenSSL's name (`AES256-SHA`), or `undefined` when OpenSSL 3.0 as built by default has no such suite.
   * For a TLS 1.3 suite ({@link CipherSuite.tls13}) this name belongs in OpenSSL's TLS 1.3 list
   * (`-ciphersuites`), not in its cipher list.
   */
  readonly openssl: string | undefined;
  /** Key exchange, from the IANA name. */
  readonly keyExchange: KeyExchange;
  /** Server authentication, from the IANA name. */
  readonly authentication: Authentication;
  /** A TLS 1.3 suite (`TLS_AES_128_GCM_SHA256` style). None of the documented suites is one. */
  readonly tls13: boolean;
  /** Listed in QuecPython's `ussl` cipher-suite table. */
  readonly inQuecPython: boolean;
  /** Listed by the BG96 `AT+QSSLCFG="ciphersuite"` test response. */
  readonly inBg96List: boolean;
}

/** The `AT+QSSLCFG="ciphersuite"` value that stands for every suite the firmware offers. */
export const ALL_CIPHER_SUITES = 0xffff;

/** The suites the BG96 test response lists, in its order, without `0XFFFF` (BG96 SSL manual V1.0 §2.1.1). */
export const BG96_CIPHER_CODES: readonly number[] = Object.freeze([
  0x0035, 0x002f, 0x0005, 0x0004, 0x000a, 0x003d, 0xc011, 0xc012, 0xc013, 0xc014, 0xc027, 0xc028, 0xc02f,
]);

type Row = readonly [name: string, code: number, openssl: string | undefined];

/** QuecPython's table, in its order. */
const QUECPYTHON_ROWS: readonly Row[] = [
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 0xcca9, 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 0xccaa, 'DHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 0xcca8, 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 0xc02c, 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 0xc030, 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 0x009f, 'DHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CCM', 0xc0ad, 'ECDHE-ECDSA-AES256-CCM'],
  ['TLS_DHE_RSA_WITH_AES_256_CCM', 0xc09f, 'DHE-RSA-AES256-CCM'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 0xc024, 'ECDHE-ECDSA-AES256-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 0xc028, 'ECDHE-RSA-AES256-SHA384'],
  ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 0x006b, 'DHE-RSA-AES256-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 0xc00a, 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 0xc014, 'ECDHE-RSA-AES256-SHA'],
  ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 0x0039, 'DHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8', 0xc0af, 'ECDHE-ECDSA-AES256-CCM8'],
  ['TLS_DHE_RSA_WITH_AES_256_CCM_8', 0xc0a3, 'DHE-RSA-AES256-CCM8'],
  ['TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc087, undefined],
  ['TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc08b, undefined],
  ['TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc07d, undefined],
  ['TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384', 0xc073, 'ECDHE-ECDSA-CAMELLIA256-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384', 0xc077, 'ECDHE-RSA-CAMELLIA256-SHA384'],
  ['TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256', 0x00c4, 'DHE-RSA-CAMELLIA256-SHA256'],
  ['TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA', 0x0088, 'DHE-RSA-CAMELLIA256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 0xc02f, 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 0x009e, 'DHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CCM', 0xc0ac, 'ECDHE-ECDSA-AES128-CCM'],
  ['TLS_DHE_RSA_WITH_AES_128_CCM', 0xc09e, 'DHE-RSA-AES128-CCM'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 0xc023, 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 0xc027, 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 0x0067, 'DHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 0xc009, 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 0xc013, 'ECDHE-RSA-AES128-SHA'],
  ['TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 0x0033, 'DHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 0xc0ae, 'ECDHE-ECDSA-AES128-CCM8'],
  ['TLS_DHE_RSA_WITH_AES_128_CCM_8', 0xc0a2, 'DHE-RSA-AES128-CCM8'],
  ['TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc086, undefined],
  ['TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc08a, undefined],
  ['TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc07c, undefined],
  ['TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256', 0xc072, 'ECDHE-ECDSA-CAMELLIA128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256', 0xc076, 'ECDHE-RSA-CAMELLIA128-SHA256'],
  ['TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256', 0x00be, 'DHE-RSA-CAMELLIA128-SHA256'],
  ['TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA', 0x0045, 'DHE-RSA-CAMELLIA128-SHA'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 0x009d, 'AES256-GCM-SHA384'],
  ['TLS_RSA_WITH_AES_256_CCM', 0xc09d, 'AES256-CCM'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA256', 0x003d, 'AES256-SHA256'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 0x0035, 'AES256-SHA'],
  ['TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384', 0xc032, undefined],
  ['TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384', 0xc02a, undefined],
  ['TLS_ECDH_RSA_WITH_AES_256_CBC_SHA', 0xc00f, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384', 0xc02e, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384', 0xc026, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA', 0xc005, undefined],
  ['TLS_RSA_WITH_AES_256_CCM_8', 0xc0a1, 'AES256-CCM8'],
  ['TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc07b, undefined],
  ['TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256', 0x00c0, 'CAMELLIA256-SHA256'],
  ['TLS_RSA_WITH_CAMELLIA_256_CBC_SHA', 0x0084, 'CAMELLIA256-SHA'],
  ['TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc08d, undefined],
  ['TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384', 0xc079, undefined],
  ['TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384', 0xc089, undefined],
  ['TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384', 0xc075, undefined],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 0x009c, 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_128_CCM', 0xc09c, 'AES128-CCM'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 0x003c, 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 0x002f, 'AES128-SHA'],
  ['TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256', 0xc031, undefined],
  ['TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256', 0xc029, undefined],
  ['TLS_ECDH_RSA_WITH_AES_128_CBC_SHA', 0xc00e, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256', 0xc02d, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256', 0xc025, undefined],
  ['TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA', 0xc004, undefined],
  ['TLS_RSA_WITH_AES_128_CCM_8', 0xc0a0, 'AES128-CCM8'],
  ['TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc07a, undefined],
  ['TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256', 0x00ba, 'CAMELLIA128-SHA256'],
  ['TLS_RSA_WITH_CAMELLIA_128_CBC_SHA', 0x0041, 'CAMELLIA128-SHA'],
  ['TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc08c, undefined],
  ['TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256', 0xc078, undefined],
  ['TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256', 0xc088, undefined],
  ['TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256', 0xc074, undefined],
  ['TLS_EMPTY_RENEGOTIATION_INFO_SCSV', 0x00ff, undefined],
];

/** BG96 suites that QuecPython's table does not list. None exists in a default OpenSSL 3.0 build. */
const BG96_ONLY_ROWS: readonly Row[] = [
  ['TLS_RSA_WITH_RC4_128_SHA', 0x0005, undefined],
  ['TLS_RSA_WITH_RC4_128_MD5', 0x0004, undefined],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 0x000a, undefined],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', 0xc011, undefined],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 0xc012, undefined],
];

const BG96_SET: ReadonlySet<number> = new Set(BG96_CIPHER_CODES);

function toSuite([name, code, openssl]: Row, inQuecPython: boolean): CipherSuite {
  const withAt = name.indexOf('_WITH_');
  let keyExchange: KeyExchange = 'none';
  let authentication: Authentication = 'none';
  // TLS 1.3 names carry no key exchange: TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, ...
  const tls13 = withAt < 0 && /^TLS_(AES|CHACHA20)_/.test(name);
  if (tls13) {
    keyExchange = 'any';
    authentication = 'any';
  } else if (withAt >= 0) {
    const parts = name.slice('TLS_'.length, withAt).split('_'); // ['RSA'] | ['ECDHE', 'ECDSA'] | ...
    keyExchange = parts[0] as KeyExchange;
    authentication = (parts[1] ?? parts[0]) as Authentication;
  }
  return Object.freeze({
    name, code, openssl, keyExchange, authentication, tls13, inQuecPython, inBg96List: BG96_SET.has(code),
  });
}

/**
 * Every suite: QuecPython's table in its order (80 rows, the last being the renegotiation SCSV `0x00FF`), then the
 * BG96-only suites in BG96 order with `inQuecPython: false`.
 */
export const CIPHER_SUITES: readonly CipherSuite[] = Object.freeze([
  ...QUECPYTHON_ROWS.map((r) => toSuite(r, true)),
  ...BG96_ONLY_ROWS.map((r) => toSuite(r, false)),
]);

const BY_CODE: ReadonlyMap<number, CipherSuite> = new Map(CIPHER_SUITES.map((s) => [s.code, s]));

/**
 * A code as the module reads it back: `0X` and four uppercase hex digits (`0X0035`, `0XFFFF`; EG800K readback,
 * quectel-at.md §2.3).
 * @throws RangeError when `code` is not an integer in 0–0xFFFF.
 */
export function formatCipherCode(code: number): string {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
    throw new RangeError(`cipher suite code out of range: ${code}`);
  }
  return `0X${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Parses one unquoted ciphersuite token: `0X` or `0x` and exactly four hex digits in either case. BG96 needs the
 * value unquoted and other modules take `0xffff` (quectel-at.md §2.3); stripping quotes is the caller's business.
 * @returns the code, or `undefined` for anything else (`35`, `0x35`, `"0X0035"`, ` 0X0035`).
 */
export function parseCipherCode(text: string): number | undefined {
  return /^0[xX][0-9a-fA-F]{4}$/.test(text) ? Number.parseInt(text.slice(2), 16) : undefined;
}

/** The table row for a code, or `undefined` (also for {@link ALL_CIPHER_SUITES}, which is not a suite). */
export function cipherSuiteByCode(code: number): CipherSuite | undefined {
  return BY_CODE.get(code);
}

/**
 * An OpenSSL cipher list (node's `ciphers` option, `s_server -cipher`) for a `ciphersuite` value.
 * - {@link ALL_CIPHER_SUITES}: every suite of the table that OpenSSL knows, in table order, joined by `:`.
 * - one code: that suite's OpenSSL name.
 *
 * TLS 1.3 suites are left out: OpenSSL keeps them in a separate list (`SSL_CTX_set_ciphersuites`,
 * `s_server -ciphersuites`) and its `-cipher` list rejects their names ("no cipher match"); only node's `ciphers`
 * option sorts them out by itself. No documented suite is a TLS 1.3 suite.
 * The list carries no `@SECLEVEL`; TLS 1.0/1.1 handshakes need `:@SECLEVEL=0` appended on OpenSSL 3.
 * @returns the list, or `undefined` when OpenSSL knows none of them (unknown code, static ECDH, RC4, 3DES, SCSV).
 */
export function openSslCipherList(code: number): string | undefined {
  if (code === ALL_CIPHER_SUITES) {
    const names = CIPHER_SUITES.filter((s) => !s.tls13 && s.openssl !== undefined).map((s) => s.openssl);
    return names.length > 0 ? names.join(':') : undefined;
  }
  const suite = BY_CODE.get(code);
  return suite === undefined || suite.tls13 ? undefined : suite.openssl;
}
