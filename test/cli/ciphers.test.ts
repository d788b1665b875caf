/**
 * `ussl-bridge ciphers` as a person runs it: the built binary on a virtual module. The table has a header and marks
 * what the firmware lists and what this machine's OpenSSL offers, checked at run time.
 */
import { createSecureContext, getCiphers } from 'node:tls';
import { expect, test } from 'vitest';
import { MODELS } from '../../src/emulator/index.js';
import { CIPHER_SUITES, formatCipherCode } from '../../src/protocol/cipherSuites.js';
import { runCli } from '../helpers/cliProcess.js';

interface Row { code: string; name: string; openssl: string | null; seed: boolean; module: boolean; localOpenssl: string }

/** What this process's OpenSSL makes of a name, found the same way the command is meant to: at run time. */
function local(openssl: string | null): string {
  if (openssl === null) return 'no';
  if (getCiphers().includes(openssl.toLowerCase())) return 'default';
  try {
    createSecureContext({ ciphers: `${openssl}:@SECLEVEL=0` });
    return 'available';
  } catch {
    return 'no';
  }
}

test('ciphers prints the seed\'s table under a header, marked with the module\'s list and the local OpenSSL', async () => {
  const r = await runCli(['ciphers', '--model', 'BG96']);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe('');
  const lines = r.out.split('\n');
  const header = lines.findIndex((l) => /^code +IANA name +OpenSSL name +seed +module +local OpenSSL$/.test(l));
  expect(header).toBeGreaterThan(0);
  const rows = lines.slice(header + 1).filter((l) => /^0X[0-9A-F]{4} /.test(l)).map((l) => l.split(/ {2,}/));
  const seed = CIPHER_SUITES.filter((s) => s.inQuecPython);
  // The seed's 80 rows in order, then the BG96 list's five RC4/3DES suites that the seed's table lacks.
  expect(rows.slice(0, seed.length).map((c) => c[0])).toEqual(seed.map((s) => formatCipherCode(s.code)));
  expect(rows).toHaveLength(seed.length + 5);
  const listed = rows.filter((c) => c[4] === 'yes').map((c) => c[0]);
  expect(listed.sort()).toEqual(MODELS.BG96.ssl!.cipherCodes.map((c) => formatCipherCode(c)).sort());
  expect(r.out).toMatch(/^13 listed by the module; 8 of them also in the local OpenSSL$/m);
});

test('ciphers --json: every row with the module\'s mark and the local OpenSSL as this process finds it', async () => {
  const r = await runCli(['ciphers', '--json']);
  expect(r.code, r.err).toBe(0);
  const doc = JSON.parse(r.out) as { module: { model: string; ssl: boolean }; openssl: string; suites: Row[] };
  expect(doc.module).toMatchObject({ model: 'EC25', ssl: true });
  expect(doc.openssl).toBe(process.versions.openssl);
  for (const row of doc.suites) expect([row.name, row.localOpenssl]).toEqual([row.name, local(row.openssl)]);
  // Not the table's build-time names: Camellia-CBC is in OpenSSL but not offered by default; ECDH is in neither.
  expect(doc.suites.find((s) => s.code === '0X0041')?.localOpenssl).toBe('available');
  expect(doc.suites.find((s) => s.code === '0XC00E')?.localOpenssl).toBe('no');
  expect(doc.suites.filter((s) => s.module)).toHaveLength(32);
});
