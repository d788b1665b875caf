/**
 * `ussl-bridge emulate --tcp` is a server people leave running: one misbehaving client (a second one that resets,
 * refused clients that send bytes, a flood of command lines) neither crashes nor stalls it, leaks no descriptor, and
 * SIGTERM stops it within a second. Each case runs the built CLI in a child process.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { eventually, startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';

const running: EmulateProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
});

async function emulate(...args: string[]): Promise<{ p: EmulateProcess; port: number }> {
  const p = await startEmulate(['--model', 'EC25', '--tcp', '0', ...args]);
  running.push(p);
  return { p, port: Number(/:(\d+)$/.exec(p.url)![1]) };
}

/** A client that collects what it receives as text. */
function client(port: number): Promise<{ sock: Socket; got: () => string; closed: Promise<void> }> {
  const sock = connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return new Promise((resolve, reject) => {
    sock.once('connect', () => resolve({ sock, got: () => got, closed }));
    sock.once('error', reject);
  });
}

/** Sends `line` every 100 ms until `answer` shows up; resolves with when it did. */
async function askUntil(c: { sock: Socket; got: () => string }, line: string, answer: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!c.got().includes(answer)) {
    if (performance.now() > deadline) throw new Error(`no ${answer} within ${timeoutMs} ms`);
    c.sock.write(`${line}\r`);
    await new Promise((r) => setTimeout(r, 100));
    if (c.got().includes(answer)) break;
  }
  return performance.now();
}

test('the first client sees the boot banner: the module powers on when it connects', async () => {
  const { port } = await emulate();
  await new Promise((r) => setTimeout(r, 200)); // long past the 20 ms boot, had it started at launch
  const a = await client(port);
  await eventually(() => a.got().includes('+QIND: PB DONE'), 5000, () => a.got());
  expect(a.got().startsWith('\r\nRDY\r\n')).toBe(true);
  a.sock.destroy();
});

test('a client that sends its commands and shuts its side (printf | nc -N) gets the answers, then the end', async () => {
  const { port } = await emulate();
  const a = await client(port);
  a.sock.end('ATE0\rATI\rAT+CSQ\r');
  await a.closed;
  expect(a.got()).toContain('Quectel');
  expect(a.got()).toContain('+CSQ:');
});

test('a second client that connects and resets is refused and the server lives on', async () => {
  const { p, port } = await emulate();
  const a = await client(port);
  await eventually(() => a.got().includes('RDY'), 5000, () => a.got());
  for (let i = 0; i < 20; i++) {
    const b = await client(port);
    b.sock.resetAndDestroy();
    await b.closed;
  }
  a.sock.write('AT+CGMM\r');
  await eventually(() => a.got().includes('EC25\r\n\r\nOK\r\n'), 5000, () => a.got());
  expect(p.child.exitCode).toBeNull();
  a.sock.destroy();
});

test('refused clients that send bytes and hang up leave no descriptor behind', async () => {
  const { p, port } = await emulate();
  const a = await client(port);
  await eventually(() => a.got().includes('RDY'), 5000, () => a.got());
  const start = p.fds();
  for (let i = 0; i < 150; i++) {
    const b = await client(port);
    b.sock.write('AT\r');
    b.sock.end();
    if (i % 3 === 0) b.sock.destroy();
    await b.closed;
  }
  // Ones that neither read nor close are let go after a second.
  const stuck = await Promise.all(Array.from({ length: 20 }, () => client(port)));
  for (const s of stuck) s.sock.write('AT+GMR\r'.repeat(1000));
  await eventually(() => p.fds() <= start, 5000, () => `fds ${p.fds()} > ${start} at start`);
  for (const s of stuck) s.sock.destroy();
  expect(p.fds()).toBeLessThanOrEqual(start);
  a.sock.write('AT\r');
  await eventually(() => a.got().endsWith('AT\r\r\nOK\r\n'), 5000, () => a.got());
  a.sock.destroy();
}, 30_000);

test('a flood of 10 MiB of AT+GMR leaves it answering within a second of the flood\'s end', async () => {
  const { p, port } = await emulate();
  const a = await client(port);
  await eventually(() => a.got().includes('PB DONE'), 5000, () => a.got());
  const flood = Buffer.from('AT+GMR\r'.repeat(Math.ceil((10 * 1024 * 1024) / 7)));
  await new Promise<void>((resolve, reject) => a.sock.write(flood, (e) => (e ? reject(e) : resolve())));
  const floodEnd = performance.now();
  const answered = await askUntil(a, 'AT+CSQ', '+CSQ: ', 5000);
  console.log(`flood: answered ${(answered - floodEnd).toFixed(0)} ms after the flood's end`);
  expect(answered - floodEnd).toBeLessThan(1000);
  // And a client that floods and leaves does not keep the server busy for the next one.
  await new Promise<void>((resolve, reject) => a.sock.write(flood, (e) => (e ? reject(e) : resolve())));
  a.sock.destroy();
  const gone = performance.now();
  let b = await client(port);
  // Until the server has seen the first client go, a new one is refused with BUSY.
  while ((await Promise.race([b.closed.then(() => 'closed'), new Promise((r) => setTimeout(r, 100, 'open'))])) === 'closed') {
    b = await client(port);
  }
  const bAnswered = await askUntil(b, 'AT+CSQ', '+CSQ: ', 5000);
  expect(bAnswered - gone).toBeLessThan(1000);
  expect(p.child.exitCode).toBeNull();
  b.sock.destroy();
}, 30_000);

test('SIGTERM stops it within a second, clients connected or not', async () => {
  const { p, port } = await emulate();
  const a = await client(port);
  await eventually(() => a.got().includes('RDY'), 5000, () => a.got());
  a.sock.pause(); // a client that stopped reading
  a.sock.write('AT+GMR\r'.repeat(50_000));
  const b = await client(port); // a refused one still lingering
  const t0 = performance.now();
  p.child.kill('SIGTERM');
  const exit = await p.exited;
  expect(exit.at - t0).toBeLessThan(1000);
  expect(exit.code).toBe(0);
  a.sock.destroy();
  b.sock.destroy();
});

test('--trace prints the exchange with secrets redacted and payloads as sizes', async () => {
  const { p, port } = await emulate('--trace');
  const a = await client(port);
  await eventually(() => a.got().includes('PB DONE'), 5000, () => a.got());
  a.sock.write('AT+QICSGP=1,1,"internet","bob","hunter2",1\r');
  await eventually(() => a.got().endsWith('OK\r\n'), 5000, () => a.got());
  a.sock.write('AT+QICSGP=1\r');
  await eventually(() => a.got().includes('+QICSGP: 1,"internet"'), 5000, () => a.got());
  a.sock.write('AT+QFUPL="t.bin",5\r');
  await eventually(() => a.got().includes('CONNECT'), 5000, () => a.got());
  a.sock.write('hello');
  await eventually(() => p.out().includes('+QFUPL: 5,'), 5000, () => p.out());
  const out = p.out();
  expect(out).toContain('→ AT+QICSGP=1,1,"internet","bob","***",1');
  expect(out).toContain('← +QICSGP: 1,"internet","bob","***",1');
  expect(out).toContain('→ [5 bytes]');
  expect(out).not.toContain('hunter2');
  expect(out).not.toContain('hello');
  a.sock.destroy();
});

test('--version prints the package version', async () => {
  const { execFileSync } = await import('node:child_process');
  const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
  const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
  expect(execFileSync(process.execPath, [cli, '--version']).toString().trim()).toBe(version);
  expect(execFileSync(process.execPath, [cli, 'emulate', '--version']).toString().trim()).toBe(version);
});
