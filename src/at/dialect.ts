/**
 * What the engine needs to know of Quectel's AT dialect, as data (lessons.md §10.3): how long each command may take,
 * which lines are unsolicited, and for each command line the options a caller would otherwise have to know to give:
 * its own reply prefix, counted data, a download, a result that comes after `OK`, a payload after `CONNECT`.
 * {@link commandDefaults} reads a command line against these tables; explicit options always win over it.
 */
import type { AtCommand } from './AtCommand.js';

/**
 * Maximum response times from the Quectel manuals (quectel-at.md §3, §4.3, §7.1, §7.3), by command, for callers that
 * give none. Every value can be replaced through the options.
 */
export const AT_TIMEOUTS: Readonly<Record<string, number>> = {
  default: 5_000,
  '+QIACT': 150_000,
  '+QIDEACT': 40_000,
  '+QIOPEN': 150_000,
  '+QSSLOPEN': 150_000,
  '+QICLOSE': 20_000,
  '+QSSLCLOSE': 20_000,
  '+QIDNSGIP': 60_000,
  '+QFUPL': 60_000,
  '+CFUN': 15_000,
  '+COPS': 180_000,
  '+CGATT': 75_000,
  '+QMTOPEN': 75_000,
  '+QHTTPGET': 60_000,
};

/** Prefixes of unsolicited result codes: a line with one is a URC unless the command in flight expects it. */
export const URC_PREFIXES: readonly string[] = [
  // sockets, SSL, PDP and DNS (§5, §7.2)
  '+QSSLURC:', '+QIURC:', '+QSSLOPEN:', '+QIOPEN:', '+QSSLSEND:', '+QSSLCLOSE:',
  // network, SIM and start-up (§7.1, §9)
  '+CREG:', '+CGREG:', '+CEREG:', '+CPIN:', '+CFUN:', '+QUSIM:', '+QIND:', '+CTZV:', '+CTZE:', '+QNITZ:', '+CGEV:',
  // SMS and calls
  '+CMTI:', '+CMT:', '+CDS:', '+CRING:', '+CLIP:', '+CUSD:',
  // MQTT (Quectel MQTT Application Note: results of open, connect, subscribe, publish, and state/receive URCs)
  '+QMTOPEN:', '+QMTCLOSE:', '+QMTCONN:', '+QMTDISC:', '+QMTSUB:', '+QMTUNS:', '+QMTPUB:', '+QMTSTAT:', '+QMTRECV:',
  '+QMTPING:',
  // HTTP(S) and FTP(S) results that arrive after OK
  '+QHTTPGET:', '+QHTTPPOST:', '+QHTTPPUT:', '+QHTTPREAD:', '+QHTTPREADFILE:', '+QHTTPPOSTFILE:', '+QHTTPPUTFILE:',
  '+QFTPOPEN:', '+QFTPCLOSE:', '+QFTPGET:', '+QFTPPUT:', '+QFTPSIZE:', '+QFTPDEL:', '+QFTPMKDIR:', '+QFTPRMDIR:',
  '+QFTPCWD:', '+QFTPPWD:', '+QFTPRENAME:', '+QFTPLIST:', '+QFTPNLST:', '+QFTPMLSD:', '+QFTPMDTM:', '+QFTPSTAT:',
  '+QFTPLEN:',
  // GNSS, ping, NTP, and a file result that can come late (T22: a late +QFUPL)
  '+QGPSURC:', '+QGNSSURC:', '+QPING:', '+QNTP:', '+QFUPL:', '+QFDWL:',
];

/** Lines with no prefix that a module prints on its own and that are not a restart: the end of a boot (T08). */
export const BOOT_URCS: ReadonlySet<string> = new Set(['APP RDY']);

type Form = 'exec' | 'read' | 'test' | 'set';

/** How one command behaves beyond "lines, then a final result code". */
interface DialectEntry {
  /** The forms whose information lines start with the command's own name. Default: read, test and set. */
  readonly ownReplies?: readonly Form[];
  /** The set form answers `<name>: <n>` and n raw bytes (unless this says the arguments ask for something else). */
  readonly countedData?: (args: readonly string[]) => boolean;
  /** A line other than `<name>: ` announces the counted data (`CONNECT <n>` of AT+QFREAD). */
  readonly dataPrefix?: string;
  /** The set form sends a file after `CONNECT`, ended by `<name>: <size>,<checksum>`. */
  readonly download?: true;
  /** The set form's result comes after `OK` as `<name>: [<id>,]…`; `idArg` is the argument holding that id. */
  readonly late?: { readonly idArg?: number; readonly timeoutMs: number };
  /** A payload goes after `CONNECT` instead of after the `>` prompt. */
  readonly payloadAfterConnect?: true;
  /** The read form answers one line whose prefix is also a URC's: an earlier such line is that URC. */
  readonly singleRead?: true;
  /** The argument holding the access mode: 2 (transparent) answers `CONNECT` and puts the port in data mode. */
  readonly accessModeArg?: number;
}

/** The network part of an open, per the manuals: `+QSSLOPEN` can take 150 s plus the negotiation time (300 s). */
const OPEN_MS = 150_000;

export const DIALECT: Readonly<Record<string, DialectEntry>> = {
  // §4.2, §7.2: reads carry counted bytes; `AT+QIRD=<id>,0` asks for totals instead.
  '+QSSLRECV': { countedData: () => true },
  '+QIRD': { countedData: (args) => args[1] === undefined || args[1].trim() !== '0' },
  '+QFREAD': { dataPrefix: 'CONNECT', countedData: () => true },
  '+QFDWL': { download: true },
  '+QFUPL': { payloadAfterConnect: true },
  '+QFWRITE': { payloadAfterConnect: true },
  // §3, §7.2: OK now, the outcome later, for the client id in the given argument.
  // Access mode 2 (§5.2): no OK, no late result, but CONNECT (or ERROR) and the port in transparent data mode.
  '+QSSLOPEN': { late: { idArg: 2, timeoutMs: OPEN_MS + 300_000 }, ownReplies: ['test'], accessModeArg: 5 },
  '+QIOPEN': { late: { idArg: 1, timeoutMs: OPEN_MS }, ownReplies: ['test'], accessModeArg: 6 },
  '+QISWTMD': { ownReplies: ['test'], accessModeArg: 1 },
  '+QMTOPEN': { late: { idArg: 0, timeoutMs: OPEN_MS }, ownReplies: ['read', 'test'] },
  '+QMTCLOSE': { late: { idArg: 0, timeoutMs: 30_000 }, ownReplies: ['test'] },
  '+QMTCONN': { late: { idArg: 0, timeoutMs: OPEN_MS }, ownReplies: ['read', 'test'] },
  '+QMTDISC': { late: { idArg: 0, timeoutMs: 30_000 }, ownReplies: ['test'] },
  '+QMTSUB': { late: { idArg: 0, timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QMTUNS': { late: { idArg: 0, timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QMTPUB': { late: { idArg: 0, timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QHTTPGET': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QHTTPPOST': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'], payloadAfterConnect: true },
  '+QHTTPPUT': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'], payloadAfterConnect: true },
  '+QHTTPREADFILE': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QFTPOPEN': { late: { timeoutMs: OPEN_MS }, ownReplies: ['read', 'test'] },
  '+QFTPCLOSE': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QFTPGET': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QFTPPUT': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QFTPSIZE': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QFTPDEL': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QPING': { late: { timeoutMs: OPEN_MS }, ownReplies: ['test'] },
  '+QNTP': { late: { timeoutMs: OPEN_MS }, ownReplies: ['read', 'test'] },
  // Setting the URC mode answers only OK; a registration URC meanwhile is a URC.
  '+CREG': { ownReplies: ['read', 'test'], singleRead: true },
  '+CGREG': { ownReplies: ['read', 'test'], singleRead: true },
  '+CEREG': { ownReplies: ['read', 'test'], singleRead: true },
  '+CPIN': { singleRead: true },
  '+CFUN': { singleRead: true },
};

const DEFAULT_OWN: readonly Form[] = ['read', 'test', 'set'];

/** The name and form of an extended command line (`AT+QSSLRECV=0,1500` → `+QSSLRECV`, set), or undefined. */
export function commandShape(line: string): { readonly name: string; readonly form: Form; readonly args: string[] } | undefined {
  const m = /^AT(\+[A-Za-z0-9]+)(=\?|\?|=(.*))?$/i.exec(line);
  if (!m) return undefined;
  const name = m[1]!.toUpperCase();
  if (m[2] === undefined) return { name, form: 'exec', args: [] };
  if (m[2] === '=?') return { name, form: 'test', args: [] };
  if (m[2] === '?') return { name, form: 'read', args: [] };
  return { name, form: 'set', args: splitArgs(m[3]!) };
}

function splitArgs(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === ',' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The timeout {@link AT_TIMEOUTS} (or an override table) gives a command line. */
export function timeoutFor(command: string, table: Readonly<Record<string, number>> = AT_TIMEOUTS): number {
  const name = /^AT(\+[A-Z0-9]+)/i.exec(command)?.[1]?.toUpperCase();
  return (name !== undefined ? table[name] : undefined) ?? table.default ?? AT_TIMEOUTS.default!;
}

/**
 * The options the dialect gives a command line: `AT+CPIN?` expects `+CPIN:` (so `+CPIN: READY` is its reply, not a
 * URC), `AT+QSSLRECV=0,1500` carries counted data, `AT+QFDWL="f"` downloads, `AT+QSSLOPEN=1,1,4,…` waits for
 * `+QSSLOPEN: 4,` after `OK` (with access mode 2, for `CONNECT` and data mode, as `ATO` and `AT+QISWTMD=<id>,2`
 * do), `AT+QFUPL=…` writes its payload after `CONNECT`.
 */
export function commandDefaults(line: string, hasPayload = false): Partial<AtCommand> {
  // ATO: back to transparent mode (§5.2), CONNECT or NO CARRIER.
  if (/^ATO0?$/i.test(line)) return { dataMode: true };
  const shape = commandShape(line);
  if (!shape) return {};
  const { name, form, args } = shape;
  const entry = DIALECT[name] ?? {};
  const out: { -readonly [K in keyof AtCommand]?: AtCommand[K] } = {};
  if ((entry.ownReplies ?? DEFAULT_OWN).includes(form)) out.expect = [`${name}:`];
  if (form === 'set') {
    if (entry.countedData?.(args)) {
      out.dataPrefix = entry.dataPrefix ?? `${name}:`;
      if (entry.dataPrefix) out.expect = [...(out.expect ?? []), entry.dataPrefix];
    }
    if (entry.download) out.download = true;
    const transparent = entry.accessModeArg !== undefined && args[entry.accessModeArg]?.trim() === '2';
    if (transparent) out.dataMode = true;
    if (entry.late && !transparent) {
      // The module reads the id as a number (`01` is 1) and answers it as one: `+QIOPEN: 1,0`.
      const raw = entry.late.idArg === undefined ? undefined : args[entry.late.idArg]?.trim();
      const id = raw !== undefined && /^\d+$/.test(raw) ? String(Number(raw)) : raw;
      out.lateResult = { prefix: id === undefined ? `${name}:` : `${name}: ${id},`, timeoutMs: entry.late.timeoutMs };
    }
  }
  if (hasPayload && entry.payloadAfterConnect) out.payloadAfter = 'connect';
  if (form === 'read' && entry.singleRead) out.single = true;
  return out;
}
