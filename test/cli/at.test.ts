/**
 * `ussl-bridge at`, the AT terminal, driven as a person drives it: in tmux (send-keys, capture-pane) on the virtual
 * module. Replies and final results come under the command, URCs appear while the prompt waits, a send asks for
 * its data, the engine refuses what must not be written, up-arrow walks the history (kept in a file), Ctrl-D and
 * Ctrl-C leave with 0 and 130. Piped input gives JSON lines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { CLI, runCli } from '../helpers/cliProcess.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

let dir: string;
let term: TmuxSession | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ussl-at-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  term?.kill();
  term = undefined;
});

function terminal(history: string): TmuxSession {
  term = startTmux(`${process.execPath} ${CLI} at`, { env: { USSL_PORT: undefined, USSL_BRIDGE_HISTORY: history } });
  return term;
}

/** Types a line and presses Enter. */
function enter(t: TmuxSession, line: string): void {
  t.type(line);
  t.keys('Enter');
}

/** The pane's last line: the prompt and what is typed at it. */
const lastLine = (pane: string) => pane.split('\n').at(-1)!;

test('a session: replies under each command, URCs while the prompt waits, a send with its data, history, Ctrl-D', async () => {
  const history = join(dir, 'history');
  writeFileSync(history, 'AT+GMR\n'); // from an earlier session
  const t = terminal(history);
  // The module boots when the port opens; its URCs show up as they come, above the prompt.
  await t.waitFor(/\+QIND: PB DONE[\s\S]*\nAT>$/);
  enter(t, 'AT+CSQ');
  await t.waitFor(/AT> AT\+CSQ\n\+CSQ: \d+,99\nOK\nAT>$/);
  enter(t, 'AT+QIACT=1');
  await t.waitFor(/AT> AT\+QIACT=1\nOK\nAT>$/);
  // The open's result comes after OK; it is shown once, under the OK.
  enter(t, 'AT+QSSLOPEN=1,1,0,"myssl.com",443,0');
  await t.waitFor(/AT> AT\+QSSLOPEN=1,1,0,"myssl\.com",443,0\nOK\n\+QSSLOPEN: 0,0\nAT>$/);
  enter(t, 'AT+QSSLSEND=0,18');
  await t.waitFor(/data>$/);
  enter(t, 'GET / HTTP/1.0\\r\\n\\r\\n');
  // SEND OK, then the server's answer is announced by a URC while the prompt waits: the prompt is drawn again below.
  let pane = await t.waitFor(/SEND OK\n(AT>\n)?\+QSSLURC: "recv",0\n[\s\S]*AT>$/);
  expect(pane).not.toMatch(/AT> \+QSSLURC/);
  enter(t, 'AT+QSSLRECV=0,1500');
  pane = await t.waitFor(/\+QSSLRECV: \d+\n\[\d+ bytes\] HTTP\/1\.1 200 OK\\r\\n[\s\S]*client anonymous\\n\nOK\nAT>$/);
  // A command the module refuses: its ERROR, as the module said it.
  enter(t, 'AT+QSSLCLOSE=0,"x"');
  await t.waitFor(/AT> AT\+QSSLCLOSE=0,"x"\nERROR\nAT>$/);
  // Up-arrow: the last command, then older ones, down to the one from the history file.
  t.keys('Up');
  await t.waitFor(/AT> AT\+QSSLCLOSE=0,"x"$/);
  t.keys('Up');
  await t.waitFor(/AT> AT\+QSSLRECV=0,1500$/);
  // Older: the data line, the send, the open, QIACT, CSQ, then the file's AT+GMR.
  for (let i = 0; i < 6; i++) t.keys('Up');
  pane = await t.waitFor(/AT> AT\+GMR$/);
  expect(lastLine(pane)).toBe('AT> AT+GMR');
  t.keys('Enter');
  await t.waitFor(/AT> AT\+GMR\n\S+\nOK\nAT>$/);
  t.keys('C-d');
  await t.waitFor(/\[exited 0\]$/);
  expect(readFileSync(history, 'utf8').split('\n')).toEqual(expect.arrayContaining(['AT+CSQ', 'AT+QSSLRECV=0,1500', 'AT+GMR']));
}, 60_000);

test(':quit leaves with 0; Ctrl-C at the prompt leaves with 130', async () => {
  const t = terminal(join(dir, 'history2'));
  await t.waitFor(/AT>$/);
  enter(t, ':quit');
  await t.waitFor(/\[exited 0\]$/);
  t.kill();
  const u = terminal(join(dir, 'history3'));
  await u.waitFor(/AT>$/);
  u.keys('C-c');
  await u.waitFor(/\[exited 130\]$/);
});

test('a data line of the wrong length is not sent; escapes make CR LF; a download shows its bytes', async () => {
  const t = terminal(join(dir, 'history4'));
  await t.waitFor(/AT>$/);
  enter(t, 'AT+QFUPL="a.txt",5');
  await t.waitFor(/data>$/);
  enter(t, 'abc');
  await t.waitFor(/\[not sent: the command announces 5 bytes, the data line has 3\]\nAT>$/);
  enter(t, 'AT+QFUPL="a.txt",5');
  await t.waitFor(/data>$/);
  enter(t, 'ab\\x0d\\x0a!');
  await t.waitFor(/\+QFUPL: 5,[0-9a-f]+\nOK\nAT>$/i);
  enter(t, 'AT+QFDWL="a.txt"');
  await t.waitFor(/AT> AT\+QFDWL="a\.txt"\n\[5 bytes\] ab\\r\\n!\n\+QFDWL: 5,[0-9a-f]+\nOK\nAT>$/i);
}, 60_000);

test('piped input: one command per line, in order; --json gives one JSON line per reply, URC and error', async () => {
  const r = await runCli(['--json', 'at'], { input: 'AT+CSQ\nAT+QCCID\nAT+QIACT=1\nAT+QIDNSGIP=1,"myssl.com"\nAT+QFDEL="\x01"\nAT\n' });
  expect(r.code).toBe(0);
  const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; command?: string; line?: string; final?: string; code?: string });
  expect(events.filter((e) => e.command !== undefined).map((e) => [e.type, e.command])).toEqual([
    ['reply', 'AT+CSQ'], ['error', 'AT+QCCID'], ['reply', 'AT+QIACT=1'], ['reply', 'AT+QIDNSGIP=1,"myssl.com"'], ['error', 'AT+QFDEL="\x01"'], ['reply', 'AT'],
  ]);
  // The engine refuses a control byte before anything is written.
  expect(events.find((e) => e.command === 'AT+QFDEL="\x01"')).toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect(events.find((e) => e.command === 'AT+QCCID')).toMatchObject({ code: 'AT_ERROR' });
  expect(events).toContainEqual({ type: 'reset', line: 'RDY' });
  expect(events.some((e) => e.type === 'urc' && /^\+QIURC: "dnsgip","[\d.]+"$/.test(e.line ?? ''))).toBe(true);
});
