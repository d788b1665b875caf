/**
 * What the hardware-in-the-loop suite measures and reports: which cipher suites a module negotiates against
 * `openssl s_server` forcing each one, how much of the line its TLS path carries, and a capability report a team
 * can compare across modules and firmware revisions (JSON for tools, Markdown for people).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCiphers } from 'node:tls';
import { cipherSuiteByCode, formatCipherCode } from '../src/protocol/cipherSuites.js';
import type { Modem } from '../src/index.js';
import type { Pki } from '../test/helpers/pki.js';
import { startOpensslServer } from '../test/helpers/tlsPeers.js';

/** One suite's outcome. */
export interface SuiteResult {
  readonly code: string;
  readonly name: string;
  readonly outcome: 'negotiates' | 'fails' | 'not in the local OpenSSL' | 'not run';
  readonly detail?: string;
}

/** The report: what identification found, the suites, the throughput. */
export interface CapabilityReport {
  readonly date: string;
  readonly port: string;
  readonly model: string;
  readonly revision: string;
  readonly firmware: string;
  readonly sslParams: readonly string[];
  readonly suites: readonly SuiteResult[];
  readonly throughput?: { readonly bytes: number; readonly ms: number; readonly bytesPerSecond: number; readonly lineShare?: number; readonly baud?: number };
  readonly notes: readonly string[];
}

const local = new Set(getCiphers().map((c) => c.toUpperCase()));

/**
 * Opens a TLS connection with each suite the module lists, to an `openssl s_server` that accepts only that suite,
 * and sends a line it echoes reversed. `reach(port)` gives the address the module can reach the local s_server at
 * (the virtual module: 127.0.0.1), or undefined when it cannot (a real module without a way in to this host).
 */
export async function cipherSweep(modem: Modem, pki: Pki, reach: (port: number) => { host: string; port: number } | undefined): Promise<SuiteResult[]> {
  const results: SuiteResult[] = [];
  for (const code of modem.info.cipherSuites) {
    const suite = cipherSuiteByCode(code);
    const row = { code: formatCipherCode(code), name: suite?.name ?? '(unknown)' };
    // Static ECDH and suites without an OpenSSL name cannot be served here (OpenSSL 3 removed or never had them).
    if (!suite?.openssl || suite.keyExchange === 'ECDH' || !local.has(suite.openssl.toUpperCase())) {
      results.push({ ...row, outcome: 'not in the local OpenSSL' });
      continue;
    }
    const cred = suite.authentication === 'ECDSA' ? pki.serverEcdsa : pki.serverRsa;
    const server = await startOpensslServer({ cert: cred.certPath, key: cred.keyPath, cipher: `${suite.openssl}:@SECLEVEL=0`, tls: '1.2' });
    try {
      const target = reach(server.port);
      if (!target) {
        results.push({ ...row, outcome: 'not run', detail: 'no address the module can reach this host at (USSL_SERVER_ADDRESS)' });
        continue;
      }
      const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), { ciphers: code, min_version: 'TLSv1.2', max_version: 'TLSv1.2' });
      sock.settimeout(30);
      try {
        await sock.connect([target.host, target.port]);
        await sock.sendall('ping\n');
        const back = (await sock.readline()).toString();
        results.push({ ...row, outcome: back === 'gnip\n' ? 'negotiates' : 'fails', ...(back === 'gnip\n' ? {} : { detail: `echo came back as ${JSON.stringify(back)}` }) });
      } catch (e) {
        results.push({ ...row, outcome: 'fails', detail: (e as Error).message });
      } finally {
        await sock.close();
      }
    } finally {
      await server.close();
    }
  }
  return results;
}

/** Writes `report.json` and `report.md` into `dir`; returns their paths. */
export function writeReport(report: CapabilityReport, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const markdown = join(dir, 'report.md');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const t = report.throughput;
  const count = (o: SuiteResult['outcome']) => report.suites.filter((s) => s.outcome === o).length;
  writeFileSync(markdown, [
    `# ussl-bridge capability report: ${report.model}`, '',
    '| | |', '|---|---|',
    `| date | ${report.date} |`, `| port | ${report.port} |`, `| model | ${report.model} |`, `| revision | ${report.revision} |`,
    `| firmware | ${report.firmware} |`, `| AT+QSSLCFG parameters | ${report.sslParams.join(', ')} |`,
    `| suites | ${count('negotiates')} negotiate, ${count('fails')} fail, ${count('not in the local OpenSSL')} not in the local OpenSSL, ${count('not run')} not run |`,
    `| throughput | ${t ? `${t.bytes} bytes in ${t.ms.toFixed(0)} ms = ${(t.bytesPerSecond / 1024).toFixed(1)} KiB/s${t.lineShare !== undefined ? `, ${(t.lineShare * 100).toFixed(1)} % of ${t.baud} baud` : ''}` : 'not measured'} |`,
    '', '## Cipher suites (TLS 1.2, each forced on the server)', '', '| code | suite | outcome | detail |', '|---|---|---|---|',
    ...report.suites.map((s) => `| ${s.code} | ${s.name} | ${s.outcome} | ${(s.detail ?? '').replace(/\|/g, '/')} |`),
    ...(report.notes.length > 0 ? ['', '## Notes', '', ...report.notes.map((n) => `- ${n}`)] : []), '',
  ].join('\n'));
  return { json, markdown };
}
