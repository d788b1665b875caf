/**
 * `ussl-bridge files` as a person uses it: against a module served by `ussl-bridge emulate --tcp` in another
 * process (UFS lives as long as that module), each command a separate run of the built binary. A file salted with
 * AT trailer and result-code text goes up and comes back byte for byte; failures have exit code 6, a model without
 * file commands 4.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';
import { runCli } from '../helpers/cliProcess.js';
import { startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';

let dir: string;
let emulated: EmulateProcess;
let port: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ussl-files-'));
  emulated = await startEmulate(['--model', 'EC25', '--tcp', '0']);
  port = ['--port', emulated.url];
});
afterAll(() => {
  emulated.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('put, ls, get, get to stdout, rm: the bytes come back the same, the checksum verified both ways', async () => {
  // Random bytes with the text a download could be mistaken to end at.
  const data = Buffer.concat([randomBytes(30_000), Buffer.from('\r\n+QFDWL: 12,abc\r\nOK\r\n'), randomBytes(30_000)]);
  const local = join(dir, 'salted.bin');
  writeFileSync(local, data);
  const checksum = formatChecksum(quectelChecksum(data));

  const put = await runCli([...port, 'files', 'put', local]);
  expect(put.code, put.err).toBe(0);
  expect(put.out).toMatch(new RegExp(`^uploaded .*salted\\.bin → salted\\.bin: ${data.length} bytes, checksum ${checksum} verified by the module \\(\\d+ ms\\)\\n$`));

  const ls = await runCli([...port, 'files', 'ls']);
  expect(ls.code).toBe(0);
  expect(ls.out).toMatch(new RegExp(`^name +size\\nsalted\\.bin +${data.length}\\n1 file, .* free of .*\\n$`));

  const back = join(dir, 'back.bin');
  const get = await runCli([...port, '--json', 'files', 'get', 'salted.bin', back]);
  expect(get.code, get.err).toBe(0);
  expect(JSON.parse(get.out)).toMatchObject({ name: 'salted.bin', size: data.length, checksum, file: back });
  expect(sha(readFileSync(back))).toBe(sha(data));

  const piped = await runCli([...port, 'files', 'get', 'salted.bin', '-']);
  expect(piped.code).toBe(0);
  expect(sha(piped.stdout)).toBe(sha(data));

  const rm = await runCli([...port, 'files', 'rm', 'salted.bin']);
  expect(rm.code).toBe(0);
  expect(rm.out).toBe('removed salted.bin\n');
  expect(JSON.parse((await runCli([...port, '--json', 'files', 'ls'])).out)).toMatchObject({ files: [] });
}, 60_000);

test('put REMOTE names the file on the module; a second put replaces it', async () => {
  const local = join(dir, 'ca.pem');
  writeFileSync(local, 'first\n');
  expect((await runCli([...port, 'files', 'put', local, 'renamed.pem'])).code).toBe(0);
  writeFileSync(local, 'second, longer\n');
  expect((await runCli([...port, 'files', 'put', local, 'renamed.pem'])).code).toBe(0);
  const r = await runCli([...port, 'files', 'get', 'renamed.pem', '-']);
  expect(r.out).toBe('second, longer\n');
  expect((await runCli([...port, 'files', 'rm', 'renamed.pem'])).code).toBe(0);
});

test('a missing file is exit 6, on the module or on this computer; a bad name is exit 2', async () => {
  const get = await runCli([...port, 'files', 'get', 'nothere.txt']);
  expect(get.code).toBe(6);
  expect(get.err).toBe('ussl-bridge: no file nothere.txt on the module [FILE_NOT_FOUND]\n');
  const rm = await runCli([...port, 'files', 'rm', 'nothere.txt']);
  expect(rm.code).toBe(6);
  const put = await runCli([...port, 'files', 'put', join(dir, 'nothere.bin')]);
  expect(put.code).toBe(6);
  expect(put.err).toMatch(/nothere\.bin.*\[ENOENT\]\n$/);
  const bad = await runCli([...port, 'files', 'rm', 'a,b.txt']);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/\[INVALID_ARGUMENT\]\n$/);
});

test('a model without file commands is exit 4, before any file command is sent', async () => {
  const r = await runCli(['--model', 'BC25', '--trace', 'files', 'ls']);
  expect(r.code).toBe(4);
  expect(r.err).toMatch(/ussl-bridge: BC25 has no file commands \(AT\+QFLST, AT\+QFUPL\) \[NOT_SUPPORTED\]\n$/);
  expect(r.err).not.toMatch(/→ AT\+QF/);
});
