/**
 * `info`: what the module is and what state it is in: identity and firmware, SIM, registration, operator and
 * signal, PDP contexts, URC port, SSL capability (parameters and cipher suites from `AT+QSSLCFG=?`) and the files in
 * UFS. It only looks: no PDP activation, no setting changed beyond echo off and numeric errors. A query the module
 * refuses is reported as such, so a module without SIM or network still gets a useful report.
 */
import type { Command } from 'commander';
import { cipherSuiteByCode, formatCipherCode } from '../protocol/cipherSuites.js';
import { formatBytes, println, printJson, table } from './output.js';
import { ask, withProbe, type Probe } from './probe.js';
import type { GlobalOptions } from './target.js';

/** 3GPP 27.007 `<stat>` of CREG/CGREG/CEREG. */
const REG_STAT: Readonly<Record<number, string>> = {
  0: 'not registered', 1: 'registered, home', 2: 'searching', 3: 'denied', 4: 'unknown', 5: 'registered, roaming',
};
/** `<AcT>` of `+COPS:` as Quectel's LTE modules use it (BG96: 8 Cat-M1, 9 NB-IoT). */
const ACT: Readonly<Record<number, string>> = { 0: 'GSM', 2: 'UTRAN', 7: 'LTE', 8: 'LTE-M', 9: 'NB-IoT' };

type Answer<T> = T | { readonly error: string };

/** Everything `info` learns, as `--json` prints it. */
export interface ModuleReport {
  readonly port: string;
  readonly module: { readonly manufacturer: string; readonly model: string; readonly revision: string; readonly firmware: string;
    readonly family: string; readonly imei: Answer<string> };
  readonly sim: Answer<string>;
  readonly registration: ReadonlyArray<{ readonly command: string; readonly stat: number | null; readonly text: string }>;
  readonly operator: Answer<{ readonly name: string; readonly act: string }>;
  readonly signal: Answer<{ readonly rssi: number; readonly dbm: number | null }>;
  readonly network: Answer<string>;
  readonly urcPort: Answer<string> | null;
  readonly pdp: Answer<ReadonlyArray<{ readonly context: number; readonly ip: string }>>;
  readonly ssl: { readonly supported: boolean; readonly params: readonly string[];
    readonly cipherSuites: ReadonlyArray<{ readonly code: string; readonly name: string | null }> };
  readonly files: Answer<{ readonly entries: ReadonlyArray<{ readonly name: string; readonly size: number }>;
    readonly free: number | null; readonly total: number | null }>;
}

const firstLine = async (p: Probe, command: string): Promise<Answer<string>> => {
  const r = await ask(p.at, command);
  return 'error' in r ? r : r.lines[0] ?? { error: `${command} answered nothing` };
};

const map = <T, U>(a: Answer<T>, f: (v: T) => Answer<U>): Answer<U> => (typeof a === 'object' && a !== null && 'error' in a ? a : f(a as T));

/** Runs the queries; each one that fails is reported, not thrown. */
export async function report(p: Probe): Promise<ModuleReport> {
  const { info } = p;
  const lte = info.family === 'lte';
  const registration: Array<{ command: string; stat: number | null; text: string }> = [];
  for (const command of lte ? ['AT+CEREG?', 'AT+CREG?', 'AT+CGREG?'] : ['AT+CEREG?']) {
    const line = await firstLine(p, command);
    const stat = typeof line === 'string' ? Number(/:\s*\d+,(\d+)/.exec(line)?.[1]) : Number.NaN;
    registration.push({ command, stat: Number.isNaN(stat) ? null : stat, text: typeof line === 'string' ? REG_STAT[stat] ?? line : line.error });
  }
  const pdp = lte ? await ask(p.at, 'AT+QIACT?') : await ask(p.at, 'AT+CGPADDR');
  const files = lte ? await p.files.list().then(async (entries) => {
    const space = await p.files.space().catch(() => undefined);
    return { entries, free: space?.free ?? null, total: space?.total ?? null };
  }, (e: unknown) => ({ error: (e as Error).message })) : { error: `${info.model} has no file commands (AT+QFLST)` };
  return {
    port: p.target.label,
    module: {
      manufacturer: info.manufacturer, model: info.model, revision: info.revision, firmware: info.firmware, family: info.family,
      imei: await firstLine(p, 'AT+CGSN'),
    },
    sim: map(await firstLine(p, 'AT+CPIN?'), (l) => l.replace(/^\+CPIN:\s*/, '')),
    registration,
    operator: map(await firstLine(p, 'AT+COPS?'), (l) => {
      const m = /^\+COPS:\s*\d+(?:,\d+,"([^"]*)"(?:,(\d+))?)?/.exec(l);
      return m?.[1] === undefined ? { error: 'no operator selected' } : { name: m[1], act: ACT[Number(m[2])] ?? m[2] ?? '' };
    }),
    signal: map(await firstLine(p, 'AT+CSQ'), (l) => {
      const rssi = Number(/^\+CSQ:\s*(\d+)/.exec(l)?.[1]);
      if (Number.isNaN(rssi)) return { error: l };
      return { rssi, dbm: rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : null };
    }),
    network: lte ? map(await firstLine(p, 'AT+QNWINFO'), (l) => l.replace(/^\+QNWINFO:\s*/, '').replace(/"/g, '').split(',').join(', ')) : { error: 'not asked on NB-IoT' },
    urcPort: lte ? map(await firstLine(p, 'AT+QURCCFG="urcport"'), (l) => /"urcport","(\w+)"/.exec(l)?.[1] ?? l) : null,
    pdp: 'error' in pdp ? pdp : pdp.lines.flatMap((l) => {
      // +QIACT: <ctx>,<state>,<type>,"<ip>"; +CGPADDR: <cid>,<addr> (quoted on some firmware).
      const m = /^\+(?:QIACT:\s*(\d+),1,\d+,"([^"]+)"|CGPADDR:\s*(\d+),"?([0-9A-Fa-f.:]+)"?)/.exec(l);
      return m ? [{ context: Number(m[1] ?? m[3]), ip: m[2] ?? m[4]! }] : [];
    }),
    ssl: {
      supported: info.ssl, params: info.sslParams,
      cipherSuites: info.cipherSuites.map((c) => ({ code: formatCipherCode(c), name: cipherSuiteByCode(c)?.name ?? null })),
    },
    files,
  };
}

const shown = <T>(a: Answer<T>, f: (v: T) => string): string => (typeof a === 'object' && a !== null && 'error' in a ? `— (${a.error})` : f(a as T));

/** The report as a two-column table, then the files. */
function print(r: ModuleReport): void {
  const rows: Array<[string, string]> = [
    ['port', r.port],
    ['module', `${r.module.manufacturer} ${r.module.model} (${r.module.family === 'nb-iot' ? 'NB-IoT' : 'LTE'}), revision ${r.module.revision}`],
    ['firmware', r.module.firmware],
    ['IMEI', shown(r.module.imei, (v) => v)],
    ['SIM', shown(r.sim, (v) => v)],
    ...r.registration.map((x): [string, string] => [`registration (${x.command.slice(3, -1)})`, x.text]),
    ['operator', shown(r.operator, (v) => `${v.name}${v.act ? `, ${v.act}` : ''}`)],
    ['signal', shown(r.signal, (v) => (v.dbm === null ? `unknown (CSQ ${v.rssi})` : `${v.dbm} dBm (CSQ ${v.rssi})`))],
    ['network', shown(r.network, (v) => v)],
    ...(r.urcPort === null ? [] : [['URC port', shown(r.urcPort, (v) => v)] as [string, string]]),
    ['PDP', shown(r.pdp, (v) => (v.length === 0 ? 'no context active' : v.map((c) => `context ${c.context}: ${c.ip}`).join('; ')))],
    ['SSL', r.ssl.supported ? `yes: ${r.ssl.params.length} AT+QSSLCFG parameters (${r.ssl.params.join(', ')})`
      : 'no: this firmware has no SSL AT commands (AT+QSSLCFG), so ussl is not supported'],
    ['cipher suites', r.ssl.supported ? `${r.ssl.cipherSuites.length} listed (ussl-bridge ciphers shows them)` : '—'],
    ['files', shown(r.files, (v) => `${v.entries.length} in UFS, ${formatBytes(v.entries.reduce((s, e) => s + e.size, 0))}` +
      (v.free !== null && v.total !== null ? `; ${formatBytes(v.free)} free of ${formatBytes(v.total)}` : ''))],
  ];
  println(table([{ header: 'item' }, { header: 'value' }], rows));
  if (!('error' in r.files) && r.files.entries.length > 0) {
    println();
    println(table([{ header: 'file' }, { header: 'size', align: 'right' }], r.files.entries.map((e) => [e.name, String(e.size)])));
  }
}

/** Adds `info` to the program. */
export function registerInfo(program: Command): void {
  program.command('info')
    .description('identity, firmware, SIM, registration, PDP, SSL capability, cipher suites and files of the module')
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge info\n  $ ussl-bridge --port /dev/ttyUSB2 info --json\n')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withProbe(g, async (p) => {
        const r = await report(p);
        if (g.json) printJson(r);
        else print(r);
      });
    });
}
