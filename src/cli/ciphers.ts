/**
 * `ciphers`: QuecPython's cipher-suite table with a header, marked with what the module's firmware lists
 * (`AT+QSSLCFG=?`, `modem.info.cipherSuites`) and what this process's OpenSSL offers, checked now rather than read
 * from the table's build-time names: a suite is `default` when Node offers it unasked (`tls.getCiphers()`),
 * `available` when OpenSSL accepts its name in a cipher list (`tls.createSecureContext`), else `no`.
 */
import { createSecureContext, getCiphers } from 'node:tls';
import type { Command } from 'commander';
import { CIPHER_SUITES, cipherSuiteByCode, formatCipherCode, type CipherSuite } from '../protocol/cipherSuites.js';
import { println, printJson, table } from './output.js';
import { withProbe } from './probe.js';
import type { GlobalOptions } from './target.js';

/** What this process's OpenSSL makes of a suite. */
export type LocalSupport = 'default' | 'available' | 'no';

/** Checks one OpenSSL name against the OpenSSL linked into this Node. */
export function localSupport(openssl: string | undefined, defaults: ReadonlySet<string> = new Set(getCiphers())): LocalSupport {
  if (openssl === undefined) return 'no';
  if (defaults.has(openssl.toLowerCase())) return 'default';
  try {
    // SECLEVEL=0 so that a suite is judged by whether OpenSSL has it, not by today's policy on its strength.
    createSecureContext({ ciphers: `${openssl}:@SECLEVEL=0` });
    return 'available';
  } catch {
    return 'no';
  }
}

/** One row of the listing. */
export interface CipherRow {
  readonly code: string;
  readonly name: string;
  readonly openssl: string | null;
  /** In QuecPython's ussl table (the seed's). */
  readonly seed: boolean;
  /** Listed by the module's firmware. */
  readonly module: boolean;
  readonly localOpenssl: LocalSupport;
}

/** The rows: the seed's table in its order, then suites the module lists that the seed's table does not. */
export function cipherRows(listed: readonly number[]): CipherRow[] {
  const defaults = new Set(getCiphers());
  const listedSet = new Set(listed);
  const extra = listed.filter((c) => !CIPHER_SUITES.some((s) => s.inQuecPython && s.code === c));
  const suites: Array<CipherSuite | number> = [...CIPHER_SUITES.filter((s) => s.inQuecPython), ...extra.map((c) => cipherSuiteByCode(c) ?? c)];
  return suites.map((s) => typeof s === 'number'
    ? { code: formatCipherCode(s), name: '(not in any table here)', openssl: null, seed: false, module: true, localOpenssl: 'no' as const }
    : {
      code: formatCipherCode(s.code), name: s.name, openssl: s.openssl ?? null, seed: s.inQuecPython, module: listedSet.has(s.code),
      localOpenssl: localSupport(s.openssl, defaults),
    });
}

/** Adds `ciphers` to the program. */
export function registerCiphers(program: Command): void {
  program.command('ciphers')
    .description('the cipher suite table, marked with what the module lists and what the local OpenSSL offers')
    .option('--listed', 'only the suites the module lists')
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge ciphers\n  $ ussl-bridge ciphers --model BG96 --listed\n  $ ussl-bridge --port /dev/ttyUSB2 ciphers --json\n')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { listed?: boolean }>();
      await withProbe(g, async ({ info, target }) => {
        const rows = cipherRows(info.cipherSuites).filter((r) => g.listed !== true || r.module);
        const module = { label: target.label, model: info.model, firmware: info.firmware, ssl: info.ssl };
        if (g.json) {
          printJson({ module, openssl: process.versions.openssl, suites: rows });
          return;
        }
        println(`module: ${target.label} (${info.firmware})` +
          (info.ssl ? `: lists ${info.cipherSuites.length} suites (AT+QSSLCFG=?)` : ': no SSL AT commands, so no suites'));
        println(`local OpenSSL: ${process.versions.openssl} (default: Node offers it unasked; available: on request)`);
        println();
        println(table(
          [{ header: 'code' }, { header: 'IANA name' }, { header: 'OpenSSL name' }, { header: 'seed' }, { header: 'module' }, { header: 'local OpenSSL' }],
          rows.map((r) => [r.code, r.name, r.openssl ?? '—', r.seed ? 'yes' : 'no', r.module ? 'yes' : '—', r.localOpenssl]),
        ));
        const both = rows.filter((r) => r.module && r.localOpenssl !== 'no').length;
        println();
        println(`${rows.filter((r) => r.module).length} listed by the module; ${both} of them also in the local OpenSSL`);
      });
    });
}
