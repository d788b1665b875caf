/**
 * `ussl-bridge emulate --pty`: the first client to open the link sees `RDY`; clients may close and reopen it; an
 * existing path is refused; socat's own error is shown; when socat or the link goes the process exits non-zero with
 * a message; SIGTERM stops it within a second, and descriptors come back after client cycles and a flood.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { eventually, startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';

let dir: string;
const running: EmulateProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ussl-ptysrv-'));
});
afterEach(() => {
  for (const p of running.splice(0)) {
    for (const c of p.children()) process.kill(c, 'SIGKILL');
    p.child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

async function emulate(link: string): Promise<EmulateProcess> {
  const p = await startEmulate(['--model', 'BG96', '--pty', link]);
  running.push(p);
  return p;
}

async function open(path: string): Promise<{ port: SerialPort; got: () => string; close: () => Promise<void> }> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  let got = '';
  port.on('data', (d: Buffer) => (got += d.toString('latin1')));
  port.on('error', () => {});
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  return { port, got: () => got, close: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())) };
}

test('the first client to open the link sees RDY; later clients reopen it and are answered', async () => {
  const link = join(dir, 'tty');
  const p = await emulate(link);
  await new Promise((r) => setTimeout(r, 200)); // long past the boot time, had it started at launch
  const a = await open(link);
  await eventually(() => a.got().startsWith('\r\nRDY\r\n'), 5000, () => JSON.stringify(a.got()));
  await a.close();
  const start = p.fds();
  // socat polls a closed link about once a second (ignoreeof), so each reopen may wait that long.
  for (let i = 0; i < 4; i++) {
    const c = await open(link);
    c.port.write('AT+CGMM\r');
    await eventually(() => c.got().includes('BG96\r\n\r\nOK\r\n'), 5000, () => JSON.stringify(c.got()));
    await c.close();
  }
  expect(p.fds()).toBeLessThanOrEqual(start);
  expect(p.child.exitCode).toBeNull();
}, 30_000);

test('a flood over the pty leaves it answering within a second of the flood\'s end', async () => {
  const link = join(dir, 'tty');
  const p = await emulate(link);
  const a = await open(link);
  await eventually(() => a.got().includes('RDY'), 5000, () => a.got());
  const flood = Buffer.from('AT+GMR\r'.repeat(150_000)); // 1 MiB
  await new Promise<void>((resolve, reject) => a.port.write(flood, (e) => (e ? reject(e) : a.port.drain(() => resolve()))));
  const end = performance.now();
  while (!a.got().includes('+CSQ: ')) {
    if (performance.now() - end > 5000) throw new Error('no answer after the flood');
    a.port.write('AT+CSQ\r');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(performance.now() - end).toBeLessThan(1100);
  expect(p.child.exitCode).toBeNull();
  const t0 = performance.now();
  p.child.kill('SIGTERM');
  const exit = await p.exited;
  expect(exit.at - t0).toBeLessThan(1000);
  expect(exit.code).toBe(0);
  expect(existsSync(link)).toBe(false);
  await a.close();
}, 30_000);

test('an existing file or link at the path is refused and left alone', async () => {
  const file = join(dir, 'taken');
  writeFileSync(file, 'mine');
  const link = join(dir, 'other');
  symlinkSync('/dev/null', link);
  const { spawnSync } = await import('node:child_process');
  const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
  for (const path of [file, link]) {
    const r = spawnSync(process.execPath, [cli, 'emulate', '--pty', path], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/already exists/);
  }
  expect(existsSync(file) && existsSync(link)).toBe(true);
});

test('a path in a missing folder shows socat\'s own error', async () => {
  const { spawnSync } = await import('node:child_process');
  const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [cli, 'emulate', '--pty', join(dir, 'no', 'such', 'tty')], { encoding: 'utf8', timeout: 10_000 });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/socat.*No such file or directory/);
});

test('when socat dies the process exits non-zero and says why', async () => {
  const link = join(dir, 'tty');
  const p = await emulate(link);
  const [socat] = p.children();
  expect(socat).toBeDefined();
  process.kill(socat!, 'SIGKILL');
  const exit = await p.exited;
  expect(exit.code).toBe(1);
  expect(p.err()).toMatch(/stopped: socat exited \(SIGKILL\)/);
});

test('when the link is removed the process exits non-zero and says why', async () => {
  const link = join(dir, 'tty');
  const p = await emulate(link);
  rmSync(link);
  const exit = await p.exited;
  expect(exit.code).toBe(1);
  expect(p.err()).toMatch(/the link .* was removed/);
});
