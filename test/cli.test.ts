/**
 * The built command line (`npm test` builds first): `emulate --tcp` serves a module until interrupted, `demo` runs
 * a TLS exchange on the virtual module, `ciphers` prints the table.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { expect, test } from 'vitest';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;

function run(args: string[]): { done: Promise<{ code: number | null; out: string; err: string }>; child: ReturnType<typeof spawn>; out: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) => child.on('exit', (code) => r({ code, out, err })));
  return { done, child, out: () => out };
}

test('emulate --tcp 0 serves a virtual module and stops cleanly on SIGINT', async () => {
  const p = run(['emulate', '--model', 'BG95', '--tcp', '0']);
  const deadline = Date.now() + 10_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /socket:\/\/127\.0\.0\.1:(\d+)/.exec(p.out())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(m).not.toBeNull();
  const sock = connect(Number(m![1]), '127.0.0.1');
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  while (!got.includes('APP RDY') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  sock.write('AT+CGMM\r');
  while (!got.endsWith('OK\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(got).toContain('AT+CGMM\r\r\nBG95-M3\r\n\r\nOK\r\n');
  sock.destroy();
  p.child.kill('SIGINT');
  expect((await p.done).code).toBe(0);
}, 20_000);

test('demo runs the TLS exchange and exits 0', async () => {
  const r = await run(['demo', '--model', 'BG96']).done;
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain('+QSSLOPEN: 0,0');
  expect(r.out).toContain('status line: HTTP/1.0 200 OK');
}, 30_000);

test('a bad option is a clear error with a non-zero exit', async () => {
  const r = await run(['emulate', '--model', 'XX1', '--tcp', '0']).done;
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(/Allowed choices are BG96/);
});
