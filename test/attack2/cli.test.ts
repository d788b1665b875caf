/**
 * Attack on the command line (dist/cli/main.js): what a person or a script relies on with `files` and `at`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { CLI, runCli } from '../helpers/cliProcess.js';
import { startEmulate, stopEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

let dir: string;
let term: TmuxSession | undefined;
let emu: EmulateProcess | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ussl-attack2-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  term?.kill();
  term = undefined;
  await stopEmulate(emu);
  emu = undefined;
});

test('files put of an empty local file does not destroy the file of that name already on the module', async () => {
  // `files put` deletes the old file first (AT+QFDEL), then uploads; the module refuses a 0-byte AT+QFUPL
  // (<file_size> is 1-<freesize>, quectel-at.md §6.1). The refusal must come before the old file is gone.
  emu = await startEmulate(['--tcp', '0']);
  const good = join(dir, 'good.pem');
  const empty = join(dir, 'empty.pem');
  const content = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(good, content);
  writeFileSync(empty, '');
  const put1 = await runCli(['--port', emu.url, 'files', 'put', good, 'ca.pem']);
  expect(put1.code, put1.err).toBe(0);

  const put2 = await runCli(['--port', emu.url, 'files', 'put', empty, 'ca.pem']);
  expect(put2.code).not.toBe(0); // refused either way

  const ls = await runCli(['--port', emu.url, '--json', 'files', 'ls']);
  expect(ls.code, ls.err).toBe(0);
  const files = (JSON.parse(ls.out) as { files: Array<{ name: string; size: number }> }).files;
  expect(files, 'the failed upload of an empty file deleted the existing ca.pem').toContainEqual({ name: 'ca.pem', size: Buffer.byteLength(content) });
}, 60_000);

test('the at terminal keeps no PIN or APN password in its history file', async () => {
  // The library hides these arguments everywhere it shows a command (trace, errors: protocol/secrets.ts); the
  // terminal's history file on disk (~/.ussl_bridge_history) is one more place a secret must not be left in.
  const history = join(dir, 'history');
  term = startTmux(`${process.execPath} ${CLI} at`, { env: { USSL_PORT: undefined, USSL_BRIDGE_HISTORY: history } });
  await term.waitFor(/\+QIND: PB DONE[\s\S]*\nAT>$/);
  term.type('AT+QICSGP=1,1,"internet","bob","hunter2-Sekrit",1');
  term.keys('Enter');
  await term.waitFor(/hunter2-Sekrit",1\nOK\nAT>$/);
  term.type('AT+CPIN="4711"');
  term.keys('Enter');
  await term.waitFor(/AT\+CPIN="4711"\n[\s\S]*(OK|ERROR)[^\n]*\nAT>$/);
  term.keys('C-d');
  await term.waitFor(/\[exited 0\]/);
  expect(existsSync(history)).toBe(true);
  const saved = readFileSync(history, 'utf8');
  expect(saved).toContain('AT+QICSGP'); // history is kept…
  expect(saved).not.toContain('hunter2-Sekrit'); // …without the secrets
  expect(saved).not.toContain('4711');
}, 60_000);
