/**
 * Every `AT+QSSLCFG` parameter the reference records (§2.2), as data: how its value is written, its range, its
 * default and its line in the test response. A model profile lists which of these its firmware has.
 */

export type SslParamName =
  | 'sslversion' | 'ciphersuite' | 'cacert' | 'clientcert' | 'clientkey' | 'seclevel' | 'ignorelocaltime'
  | 'negotiatetime' | 'sni' | 'checkhost' | 'ignorecertchain' | 'dtls' | 'dtlsversion' | 'cacertex' | 'psk'
  | 'closetimemode' | 'session_cache' | 'renegotiation' | 'ignoremulticertchainverify' | 'ignoreinvalidcertsign'
  | 'alpn' | 'ignorecertitem';

export type SslParamSpec =
  | { readonly kind: 'int'; readonly def: number }
  | { readonly kind: 'cipher'; readonly def: number }
  /** A quoted path or text; `extra` is an optional second quoted value (clientkey's password). */
  | { readonly kind: 'string'; readonly def: string; readonly extra?: boolean }
  /** Two quoted values (psk identity and key). */
  | { readonly kind: 'pair' };

const flag = (def = 0): SslParamSpec => ({ kind: 'int', def });

/** How each parameter's value is written and its default; the ranges come from the firmware's test response. */
export const SSL_PARAMS: Readonly<Record<SslParamName, SslParamSpec>> = {
  // Default 4 ("all") assumed: no manual states it, Mbed and Quectel's examples always set it (§2.2).
  sslversion: { kind: 'int', def: 4 },
  ciphersuite: { kind: 'cipher', def: 0xffff },
  cacert: { kind: 'string', def: '' },
  clientcert: { kind: 'string', def: '' },
  clientkey: { kind: 'string', def: '', extra: true },
  seclevel: { kind: 'int', def: 0 },
  // Read back as 1 on BG96 (T01) and EG800K (T15).
  ignorelocaltime: { kind: 'int', def: 1 },
  negotiatetime: { kind: 'int', def: 300 },
  sni: flag(),
  checkhost: flag(),
  ignorecertchain: flag(),
  dtls: flag(),
  dtlsversion: flag(),
  cacertex: { kind: 'string', def: '' },
  psk: { kind: 'pair' },
  closetimemode: flag(),
  session_cache: flag(),
  renegotiation: flag(),
  ignoremulticertchainverify: flag(),
  ignoreinvalidcertsign: flag(),
  alpn: { kind: 'string', def: '' },
  ignorecertitem: { kind: 'int', def: 0 },
};

/** What a firmware's `AT+QSSLCFG=?` says it accepts. */
export interface SslCapabilities {
  /** The lines of the test response, verbatim. */
  readonly testLines: readonly string[];
  /** Parameters in the order listed. */
  readonly params: readonly SslParamName[];
  /** Cipher suite codes listed, without 0XFFFF. */
  readonly cipherCodes: readonly number[];
  /** Whether an integer value is inside the range the line gives (`(0-4)`, `(0,1)`, `(10-300)`). */
  accepts(name: SslParamName, value: number): boolean;
}

const LINE = /^\+QSSLCFG: "(\w+)",\(0-5\),(.*)$/;

/** Reads a test response into capabilities; throws on a line naming an unknown parameter (a profile error). */
export function sslCapabilities(testLines: readonly string[]): SslCapabilities {
  const params: SslParamName[] = [];
  const ranges = new Map<SslParamName, Array<[number, number]>>();
  let cipherCodes: number[] = [];
  for (const line of testLines) {
    const m = LINE.exec(line);
    if (!m || !(m[1]! in SSL_PARAMS)) throw new Error(`not a known AT+QSSLCFG test line: ${line}`);
    const name = m[1] as SslParamName;
    params.push(name);
    const group = /^\(([^)]*)\)$/.exec(m[2]!)?.[1];
    if (group === undefined) continue;
    const items = group.split(',').map((t) => t.trim());
    if (SSL_PARAMS[name].kind === 'cipher') {
      cipherCodes = items.map((t) => parseInt(t, 16)).filter((c) => c !== 0xffff);
    } else {
      ranges.set(name, items.map((t) => {
        const [lo, hi] = t.split('-').map(Number);
        return [lo!, hi ?? lo!];
      }));
    }
  }
  return {
    testLines, params, cipherCodes,
    accepts: (name, value) => (ranges.get(name) ?? []).some(([lo, hi]) => value >= lo && value <= hi),
  };
}
