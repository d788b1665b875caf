/**
 * The README's Python driver is examples/python_driver.py byte for byte, and it runs as the README says: against
 * `ussl-bridge emulate --tcp` in another process (the built CLI), with `python3 examples/python_driver.py PORT`.
 * Without python3 the test fails and says what to install; it is never skipped.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const FILE = 'examples/python_driver.py';

const running: EmulateProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
});

function python(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(killer);
      reject(e.code === 'ENOENT'
        ? new Error('python3 is not installed: the README\'s Python example needs it (Debian: apt-get install python3)')
        : e);
    });
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

test('the README shows examples/python_driver.py byte for byte', () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const blocks = [...readme.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toContain(readFileSync(`${ROOT}${FILE}`, 'utf8'));
});

test('python3 examples/python_driver.py PORT drives `emulate --tcp`: banner, identity, SSL parameters', async () => {
  const emulate = await startEmulate(['--model', 'EC25', '--tcp', '0']);
  running.push(emulate);
  const port = /:(\d+)$/.exec(emulate.url)![1]!;
  const first = await python([FILE, port]);
  expect(first.code, first.err).toBe(0);
  const lines = first.out.split('\n');
  expect(lines[0]).toBe('boot: RDY, +CFUN: 1, +CPIN: READY, +QUSIM: 1, +QIND: SMS DONE, +QIND: PB DONE');
  expect(lines[1]).toBe('Quectel | EC25 | Revision: EC25EFAR06A17M4G | OK');
  expect(lines[2]).toMatch(/^sslversion( \w+)* ciphersuite( \w+)* seclevel( \w+)* negotiatetime( \w+)* \| OK$/);
  expect(lines.slice(3)).toEqual(['+QSSLCFG: "sslversion",1,4 | OK', '']);
  // A client that comes later finds the module on already: no banner, the same answers.
  const again = await python([FILE, port]);
  expect(again.code, again.err).toBe(0);
  expect(again.out.split('\n').slice(0, 2)).toEqual(['boot: nothing (the module was on already)', 'Quectel | EC25 | Revision: EC25EFAR06A17M4G | OK']);
}, 30_000);
