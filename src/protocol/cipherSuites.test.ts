import { execFile } from 'node:child_process';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import {
  ALL_CIPHER_SUITES,
  BG96_CIPHER_CODES,
  CIPHER_SUITES,
  cipherSuiteByCode,
  formatCipherCode,
  openSslCipherList,
  parseCipherCode,
} from './cipherSuites.js';

describe('the table', () => {
  test('holds the 80 rows of QuecPython’s table in its order, then the 5 BG96-only suites', () => {
    const seed = CIPHER_SUITES.filter((s) => s.inQuecPython);
    expect(seed).toHaveLength(80);
    expect(CIPHER_SUITES.slice(0, 80)).toEqual(seed);
    expect(seed[0]).toMatchObject({ name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', code: 0xcca9 });
    expect(seed[46]).toMatchObject({ name: 'TLS_RSA_WITH_AES_256_CBC_SHA', code: 0x0035 });
    expect(seed[79]).toMatchObject({ name: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV', code: 0x00ff });
    expect(CIPHER_SUITES.slice(80).map((s) => s.code)).toEqual([0x0005, 0x0004, 0x000a, 0xc011, 0xc012]);
    expect(CIPHER_SUITES.slice(80).every((s) => !s.inQuecPython && s.inBg96List)).toBe(true);
  });

  test('codes and names are unique, and every code fits 16 bits', () => {
    expect(new Set(CIPHER_SUITES.map((s) => s.code)).size).toBe(CIPHER_SUITES.length);
    expect(new Set(CIPHER_SUITES.map((s) => s.name)).size).toBe(CIPHER_SUITES.length);
    for (const s of CIPHER_SUITES) expect(s.code >= 0 && s.code < ALL_CIPHER_SUITES).toBe(true);
  });

  test('key exchange and authentication come from the IANA name', () => {
    expect(cipherSuiteByCode(0x0035)).toMatchObject({ keyExchange: 'RSA', authentication: 'RSA' });
    expect(cipherSuiteByCode(0xc02b)).toMatchObject({ keyExchange: 'ECDHE', authentication: 'ECDSA' });
    expect(cipherSuiteByCode(0x009e)).toMatchObject({ keyExchange: 'DHE', authentication: 'RSA' });
    expect(cipherSuiteByCode(0xc031)).toMatchObject({ keyExchange: 'ECDH', authentication: 'RSA' });
    expect(cipherSuiteByCode(0x00ff)).toMatchObject({ keyExchange: 'none', authentication: 'none' });
    expect(CIPHER_SUITES.some((s) => s.tls13)).toBe(false);
  });

  test('the BG96 list has its 13 codes in the manual’s order, all in the table and marked', () => {
    expect(BG96_CIPHER_CODES.map(formatCipherCode).join(',')).toBe(
      '0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XC011,0XC012,0XC013,0XC014,0XC027,0XC028,0XC02F',
    );
    for (const code of BG96_CIPHER_CODES) expect(cipherSuiteByCode(code)?.inBg96List).toBe(true);
    expect(CIPHER_SUITES.filter((s) => s.inBg96List)).toHaveLength(13);
    expect(cipherSuiteByCode(0xc02f)?.inQuecPython).toBe(true);
    expect(cipherSuiteByCode(0xc02b)?.inBg96List).toBe(false);
  });

  test('cipherSuiteByCode knows no 0xFFFF and no unlisted code', () => {
    expect(cipherSuiteByCode(ALL_CIPHER_SUITES)).toBeUndefined();
    expect(cipherSuiteByCode(0x1301)).toBeUndefined();
  });
});

describe('codes as text', () => {
  test('format gives 0X and four uppercase digits', () => {
    expect(formatCipherCode(0x35)).toBe('0X0035');
    expect(formatCipherCode(0xc02f)).toBe('0XC02F');
    expect(formatCipherCode(ALL_CIPHER_SUITES)).toBe('0XFFFF');
    expect(formatCipherCode(0)).toBe('0X0000');
  });

  test('format refuses what is not a 16-bit code', () => {
    for (const bad of [-1, 0x10000, 1.5, Number.NaN]) expect(() => formatCipherCode(bad)).toThrow(RangeError);
  });

  test('parse accepts both prefixes and both cases', () => {
    expect(parseCipherCode('0X0035')).toBe(0x35);
    expect(parseCipherCode('0x0035')).toBe(0x35);
    expect(parseCipherCode('0XffFF')).toBe(0xffff);
    expect(parseCipherCode('0xc02f')).toBe(0xc02f);
  });

  test('parse rejects anything else', () => {
    for (const bad of ['', '0035', '0x35', '0x00035', '"0X0035"', ' 0X0035', '0X0035 ', '0XG035', '0b0035', '53']) {
      expect(parseCipherCode(bad)).toBeUndefined();
    }
  });

  test('every code round-trips through format and parse', () => {
    for (const code of [...CIPHER_SUITES.map((s) => s.code), ALL_CIPHER_SUITES]) {
      expect(parseCipherCode(formatCipherCode(code))).toBe(code);
      expect(parseCipherCode(formatCipherCode(code).toLowerCase())).toBe(code);
    }
  });
});

describe('OpenSSL names', () => {
  test('known mappings', () => {
    expect(cipherSuiteByCode(0x0035)?.openssl).toBe('AES256-SHA');
    expect(cipherSuiteByCode(0xc02f)?.openssl).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(cipherSuiteByCode(0xcca9)?.openssl).toBe('ECDHE-ECDSA-CHACHA20-POLY1305');
    expect(cipherSuiteByCode(0xc0a0)?.openssl).toBe('AES128-CCM8');
    // Static ECDH, Camellia-GCM, RC4, 3DES and the SCSV have no OpenSSL 3.0 suite.
    for (const code of [0xc031, 0xc07a, 0x0005, 0x000a, 0xc012, 0x00ff]) {
      expect(cipherSuiteByCode(code)?.openssl).toBeUndefined();
    }
  });

  test('openSslCipherList gives one name, all names for 0xFFFF, undefined when there is none', () => {
    expect(openSslCipherList(0x0035)).toBe('AES256-SHA');
    expect(openSslCipherList(0x0005)).toBeUndefined();
    expect(openSslCipherList(0x1234)).toBeUndefined();
    const all = openSslCipherList(ALL_CIPHER_SUITES)?.split(':') ?? [];
    const known = CIPHER_SUITES.filter((s) => s.openssl !== undefined);
    expect(all).toEqual(known.map((s) => s.openssl));
    expect(all.length).toBeGreaterThan(40);
    expect(all).toContain('ECDHE-RSA-AES128-GCM-SHA256');
  });

  test('the hard-coded names agree with this machine’s openssl CLI', async () => {
    const { stdout } = await promisify(execFile)('openssl', [
      'ciphers', '-V', '-stdname', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0',
    ]);
    // "          0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=..."
    const cli = new Map<number, string>();
    for (const m of stdout.matchAll(/0x([0-9A-F]{2}),0x([0-9A-F]{2}) - \S+\s+- (\S+)/g)) {
      cli.set(Number.parseInt(m[1]! + m[2]!, 16), m[3]!);
    }
    expect(cli.size).toBeGreaterThan(50);
    const fromCli = CIPHER_SUITES.map((s) => ({ name: s.name, openssl: cli.get(s.code) }));
    expect(fromCli).toEqual(CIPHER_SUITES.map((s) => ({ name: s.name, openssl: s.openssl })));
  });

  test('node’s OpenSSL accepts every mapped name, alone and as the 0xFFFF list', () => {
    const mapped = CIPHER_SUITES.filter((s) => s.openssl !== undefined && !s.tls13);
    for (const s of mapped) {
      expect(() => createSecureContext({ ciphers: `${s.openssl}:@SECLEVEL=0` }), s.name).not.toThrow();
    }
    expect(() => createSecureContext({ ciphers: `${openSslCipherList(ALL_CIPHER_SUITES)}:@SECLEVEL=0` })).not.toThrow();
    // The check can fail: a name OpenSSL does not know makes the context throw.
    expect(() => createSecureContext({ ciphers: 'DES-CBC3-SHA:@SECLEVEL=0' })).toThrow(/no cipher match/);
  });
});
