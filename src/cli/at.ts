/**
 * `at`: an interactive AT terminal for people used to QCOM or minicom, on the library's engine. The port is opened
 * raw (`AtClient.open`, no bring-up): each line typed is sent as one command (the engine refuses bytes that would
 * end it early), its reply lines and final result are printed, and URCs, restarts and lines nobody expected are
 * printed the moment they arrive. History (up-arrow) is kept in `~/.ussl_bridge_history` (`USSL_BRIDGE_HISTORY`
 * moves it). A send or upload command (`AT+QSSLSEND=0,5`, `AT+QFUPL="f",5`) asks for its data on the next line, with
 * `\r`, `\n`, `\xHH` escapes. Ctrl-C aborts a command in flight; at the prompt it leaves (130), as Ctrl-D and
 * `:quit` do (0). Piped input works too: one command per line, in order.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { AtClient } from '../at/AtClient.js';
import type { AtReply } from '../at/AtCommand.js';
import { commandDefaults, commandShape } from '../at/dialect.js';
import { isQuectelError } from '../errors.js';
import { redactCommandLine } from '../protocol/secrets.js';
import { EXIT } from './exitCodes.js';
import { printable } from './output.js';
import { resolveTarget, type GlobalOptions } from './target.js';

/** Commands that write data after `>` or `CONNECT`, and which argument holds its length (none: the Ctrl-Z form). */
const PAYLOAD_LENGTH_ARG: Readonly<Record<string, number>> = { '+QSSLSEND': 1, '+QISEND': 1, '+QFUPL': 1, '+QFWRITE': 1 };
const CTRL_Z = 0x1a;
const SHOWN_DATA = 2048;

/** `GET /\r\n` as typed → its bytes: `\r`, `\n`, `\t`, `\\`, `\xHH`. */
export function unescapeData(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i === text.length - 1) {
      out.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = text[++i]!;
    if (n === 'r') out.push(13);
    else if (n === 'n') out.push(10);
    else if (n === 't') out.push(9);
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(n, 'utf8'));
  }
  return Buffer.from(out);
}

/** How many bytes a command announces, `'ctrl-z'` for the Ctrl-Z send form, or undefined when it takes no data. */
function payloadOf(line: string): number | 'ctrl-z' | undefined {
  const shape = commandShape(line);
  const arg = shape && shape.form === 'set' ? PAYLOAD_LENGTH_ARG[shape.name] : undefined;
  if (arg === undefined) return undefined;
  const length = shape!.args[arg]?.trim();
  if (length === undefined || length === '') return shape!.name === '+QSSLSEND' || shape!.name === '+QISEND' ? 'ctrl-z' : undefined;
  return /^\d+$/.test(length) ? Number(length) : undefined;
}

function historyPath(): string {
  return process.env.USSL_BRIDGE_HISTORY ?? join(homedir(), '.ussl_bridge_history');
}

function loadHistory(): string[] {
  try {
    return readFileSync(historyPath(), 'utf8').split('\n').filter((l) => l !== '').slice(-500).reverse();
  } catch {
    return [];
  }
}

/** The reply as the module sent it: counted data after its `+QSSLRECV: <n>` line, a download before its trailer. */
function replyText(r: AtReply, download: boolean): string[] {
  const out = [...r.lines];
  if (r.data.length > 0) {
    const more = r.data.length > SHOWN_DATA ? ` … (${r.data.length - SHOWN_DATA} more bytes)` : '';
    out.splice(download ? 0 : out.length, 0, `[${r.data.length} bytes] ${printable(r.data.subarray(0, SHOWN_DATA))}${more}`);
  }
  out.push(r.final);
  if (r.late !== undefined) out.push(r.late);
  return out;
}

function errorText(e: unknown): string[] {
  if (isQuectelError(e, 'AT_ERROR') || isQuectelError(e, 'AT_CME_ERROR')) {
    const lines = typeof e.context.lines === 'string' && e.context.lines !== '' ? e.context.lines.split(' | ') : [];
    const meaning = isQuectelError(e, 'AT_CME_ERROR') ? / \(([^)]*)\)$/.exec(e.message)?.[1] : undefined;
    return [...lines, `${String(e.context.final ?? 'ERROR')}${meaning ? `  (${meaning})` : ''}`];
  }
  return [`[${e instanceof Error ? e.message : String(e)}${isQuectelError(e) ? ` ${e.code}` : ''}]`];
}

async function runAt(g: GlobalOptions): Promise<number> {
  const interactive = process.stdin.isTTY === true && g.json !== true;
  const target = await resolveTarget(g, { servers: true });
  let client: AtClient;
  try {
    client = await AtClient.open(target.url, target.at);
  } catch (e) {
    await target.close();
    throw e;
  }
  let idle = false;
  let rl: Interface | undefined;
  /** Prints a line; at an idle prompt the prompt and what was typed so far are drawn again below it. */
  const show = (type: string, text: string, extra: Record<string, unknown> = {}) => {
    if (g.json) return void process.stdout.write(`${JSON.stringify(Object.keys(extra).length > 0 ? { type, ...extra } : { type, line: text })}\n`);
    if (interactive && idle && rl) {
      process.stdout.write(`\r\x1b[K${text}\n`);
      rl.prompt(true);
    } else process.stdout.write(`${text}\n`);
  };
  // A result that comes after OK (`+QSSLOPEN: 0,0`) is also a URC: it is shown once, with the reply, after the OK.
  let latePrefix: string | undefined;
  client.onUrc('', (line, data) => {
    if (latePrefix === undefined || !line.startsWith(latePrefix)) show('urc', data ? `${line} [${data.length} bytes] ${printable(data)}` : line);
  });
  client.on('unknown', (line) => show('unknown', line));
  client.on('reset', (line) => show('reset', line));
  let closed: string | undefined;
  let leaving = false;
  client.on('close', (ev) => {
    if (leaving) return;
    closed = ev.reason;
    process.stderr.write(`ussl-bridge: the port closed (${ev.reason})\n`);
    rl?.close();
  });

  const history = interactive ? loadHistory() : [];
  rl = createInterface({
    input: process.stdin, output: g.json ? process.stderr : process.stdout, terminal: interactive,
    history, historySize: 500, removeHistoryDuplicates: true, prompt: 'AT> ',
  });
  let inFlight: AbortController | undefined;
  let exit: number = EXIT.OK;
  rl.on('SIGINT', () => {
    if (inFlight) return inFlight.abort();
    exit = EXIT.INTERRUPTED;
    rl?.close();
  });
  if (!interactive) process.once('SIGINT', () => process.exit(EXIT.INTERRUPTED));
  process.stderr.write(`ussl-bridge at: ${target.label}${target.virtual ? ` (${Object.keys(target.hosts).join(', ')} resolve to local servers)` : ''}; ` +
    'type AT commands; :quit or Ctrl-D leaves\n');

  const lines = rl[Symbol.asyncIterator]();
  const next = async (prompt: string): Promise<string | undefined> => {
    if (interactive) {
      rl!.setPrompt(prompt);
      rl!.prompt();
    }
    idle = true;
    const r = await lines.next();
    idle = false;
    return r.done === true ? undefined : r.value;
  };
  for (;;) {
    const raw = await next('AT> ');
    if (raw === undefined) break;
    const line = raw.trim();
    if (line === '') continue;
    if (interactive) appendHistory(line);
    if (line === ':quit' || line === ':q' || line === ':exit') break;
    if (line === ':help') {
      show('help', 'Type a command (AT+CSQ). Data for AT+QSSLSEND=<id>,<n> / AT+QFUPL="<f>",<n> goes on the next line, \\r \\n \\xHH escaped.\n:quit or Ctrl-D leaves; Ctrl-C aborts a command in flight.');
      continue;
    }
    let payload: Buffer | undefined;
    const wants = payloadOf(line);
    if (wants !== undefined) {
      const data = await next('data> ');
      if (data === undefined) break;
      payload = unescapeData(data);
      if (wants === 'ctrl-z') payload = Buffer.concat([payload, Buffer.from([CTRL_Z])]);
      else if (payload.length !== wants) {
        show('error', `[not sent: the command announces ${wants} bytes, the data line has ${payload.length}]`, { command: line });
        continue;
      }
    }
    inFlight = new AbortController();
    const dialect = commandDefaults(line);
    latePrefix = dialect.lateResult?.prefix;
    try {
      const r = await client.send(line, { ...(payload ? { payload } : {}), signal: inFlight.signal });
      if (g.json) show('reply', '', { command: line, lines: r.lines, final: r.final, ...(r.late !== undefined ? { late: r.late } : {}), dataLength: r.data.length, data: Buffer.from(r.data).toString('latin1') });
      else for (const l of replyText(r, dialect.download === true)) show('reply', l);
    } catch (e) {
      if (g.json) show('error', '', { command: line, code: isQuectelError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) });
      else for (const l of errorText(e)) show('error', l);
      if (isQuectelError(e, 'TRANSPORT_CLOSED')) break;
    } finally {
      inFlight = undefined;
      latePrefix = undefined;
    }
  }
  rl.close();
  leaving = true;
  await client.close().catch(() => {});
  await target.close();
  return closed !== undefined ? EXIT.MODULE : exit;
}

/** Saves a line to the history file with its secrets (a PIN, an APN password, a PSK) as `***`, as traces show them. */
function appendHistory(line: string): void {
  try {
    appendFileSync(historyPath(), `${redactCommandLine(line)}\n`, { mode: 0o600 });
  } catch {
    // A read-only home loses history, not the session.
  }
}

/** Adds `at` to the program. */
export function registerAt(program: Command): void {
  program.command('at')
    .description('an interactive AT terminal: history, URCs shown as they arrive, the engine\'s checks (no bring-up)')
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge at\n  $ ussl-bridge --port /dev/ttyUSB2?baud=115200 at\n' +
      '  $ printf \'AT+CSQ\\nAT+QSSLCFG=?\\n\' | ussl-bridge --json at\n')
    .action(async (_o: unknown, cmd: Command) => {
      process.exitCode = await runAt(cmd.optsWithGlobals<GlobalOptions>());
    });
}
