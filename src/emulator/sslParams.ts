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
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly def: number; readonly test: string }
  | { readonly kind: 'cipher'; readonly def: number }
  /** A quoted path or text; `extra` is an optional second quoted value (clientkey's password). */
  | { readonly kind: 'string'; readonly def: string; readonly test: string; readonly extra?: boolean }
  /** Two quoted values (psk identity and key). */
  | { readonly kind: 'pair'; readonly test: string };

const flag = (def = 0): SslParamSpec => ({ kind: 'int', min: 0, max: 1, def, test: '(0,1)' });

export const SSL_PARAMS: Readonly<Record<SslParamName, SslParamSpec>> = {
  // Default 4 ("all") assumed: no manual states it, Mbed and Quectel's examples always set it (§2.2).
  sslversion: { kind: 'int', min: 0, max: 4, def: 4, test: '(0-4)' },
  ciphersuite: { kind: 'cipher', def: 0xffff },
  cacert: { kind: 'string', def: '', test: '<cacertpath>' },
  clientcert: { kind: 'string', def: '', test: '<client_cert_path>' },
  clientkey: { kind: 'string', def: '', test: '<client_key_path>', extra: true },
  seclevel: { kind: 'int', min: 0, max: 2, def: 0, test: '(0-2)' },
  // Read back as 1 on BG96 (T01) and EG800K (T15).
  ignorelocaltime: { kind: 'int', min: 0, max: 1, def: 1, test: '(0,1)' },
  negotiatetime: { kind: 'int', min: 10, max: 300, def: 300, test: '(10-300)' },
  sni: flag(),
  checkhost: flag(),
  ignorecertchain: flag(),
  dtls: flag(),
  dtlsversion: { kind: 'int', min: 0, max: 2, def: 0, test: '(0-2)' },
  cacertex: { kind: 'string', def: '', test: '<cacertex_path>' },
  psk: { kind: 'pair', test: '<identity>,<psk_key>' },
  closetimemode: flag(),
  session_cache: flag(),
  renegotiation: flag(),
  ignoremulticertchainverify: flag(),
  ignoreinvalidcertsign: flag(),
  alpn: { kind: 'string', def: '', test: '<alpn_name>' },
  ignorecertitem: { kind: 'int', min: 0, max: 1048575, def: 0, test: '(0-1048575)' },
};

/** The BG96 V1.0 set (S1 §2.1.1), in the order of its test response. */
export const BG96_V1_PARAMS: readonly SslParamName[] = [
  'sslversion', 'ciphersuite', 'cacert', 'clientcert', 'clientkey', 'seclevel', 'ignorelocaltime', 'negotiatetime',
];

/** Later BG96 firmware and the BG95 insert these after `seclevel` (T18). */
export const LATER_BG96_PARAMS: readonly SslParamName[] = [
  'sslversion', 'ciphersuite', 'cacert', 'clientcert', 'clientkey', 'seclevel', 'sni', 'checkhost', 'ignorecertchain',
  'ignorelocaltime', 'negotiatetime',
];

/** EC2x/EG2x (T19/T20): the richer list. */
export const EC2X_PARAMS: readonly SslParamName[] = [
  'sslversion', 'ciphersuite', 'cacert', 'clientcert', 'clientkey', 'seclevel', 'ignorelocaltime', 'negotiatetime',
  'dtls', 'dtlsversion', 'sni', 'cacertex', 'psk', 'closetimemode', 'session_cache', 'renegotiation',
  'ignoremulticertchainverify', 'ignoreinvalidcertsign', 'alpn', 'ignorecertitem',
];

/** EG800K (S10): the V1.0 set plus `sni`, which defaults to 0 and is not kept over a reboot (T15). */
export const EG800K_PARAMS: readonly SslParamName[] = [...BG96_V1_PARAMS, 'sni'];
