/**
 * Attack on the virtual module and its servers (src/emulator): hostile clients of `ussl-bridge emulate --tcp`,
 * resets, absurd arguments, compared with the protocol as quectel-at.md describes it.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { runCli } from '../helpers/cliProcess.js';
import { startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';
import { sleep } from '../attack/harness.js';

const disposers: Array<() => unknown> = [];
afterEach(async () => {
  for (const d of disposers.splice(0).reverse()) {
    try {
      await d();
    } catch {
      /* already gone */
    }
  }
});

async function emulate(args: readonly string[]): Promise<EmulateProcess> {
  const e = await startEmulate(args);
  disposers.push(async () => {
    if (e.child.exitCode === null && e.child.signalCode === null) {
      e.child.kill('SIGTERM');
      await e.exited;
    }
  });
  return e;
}

function client(url: string): Promise<{ socket: Socket; received: () => string }> {
  const m = /^socket:\/\/([^:]+):(\d+)$/.exec(url)!;
  let text = '';
  return new Promise((resolve, reject) => {
    const socket = connect(Number(m[2]), m[1]!, () => resolve({ socket, received: () => text }));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', reject);
    disposers.push(() => socket.destroy());
  });
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

test('emulate --tcp: a client that disconnects in the middle of AT+QFUPL leaves nothing lasting for the next client', async () => {
  // serve.ts promises that a misbehaving client "costs it nothing lasting". A client that starts an upload with a
  // long data timeout (1-65535 s is allowed) and then goes away leaves the module collecting file bytes: everything
  // the next client types becomes file content, for as long as that timeout.
  const e = await emulate(['--tcp', '0']);
  const first = await client(e.url);
  expect(await waitFor(() => first.received().includes('PB DONE'), 10_000)).toBe(true);
  first.socket.write('AT+QFUPL="big.bin",100000,600\r');
  expect(await waitFor(() => first.received().includes('CONNECT'), 5000)).toBe(true);
  first.socket.write('partial file bytes');
  first.socket.destroy();
  await sleep(200);

  // The next client: `ussl-bridge files ls` (it syncs with AT, then lists).
  const r = await runCli(['--port', e.url, '--json', 'files', 'ls'], { timeoutMs: 60_000 });
  expect(r.err).not.toMatch(/MODEM_NO_ANSWER|AT_NO_ANSWER/);
  expect(r.code).toBe(0);
}, 90_000);

test('a spontaneous reset stops what the module was sending: no download trailer and OK after the reset', async () => {
  // A paced EC25 (9600 baud: a 5000-byte file takes about 5 s on the line) resets 300 ms into AT+QFDWL. A real
  // module stops sending when it resets; the rest of the file, its `+QFDWL:` trailer and `OK` must not arrive after
  // it, or the emulator can never show a host what a reset in the middle of a download looks like.
  const m = new VirtualModule({ model: 'EC25', baud: 9600, files: { 'f.bin': Buffer.alloc(5000, 0x41) } });
  disposers.push(() => m.dispose());
  const out: Buffer[] = [];
  m.on('output', (c) => out.push(Buffer.from(c)));
  m.attach();
  await waitFor(() => Buffer.concat(out).toString('latin1').includes('RDY'), 5000);
  await sleep(200);
  out.length = 0;
  m.write(Buffer.from('AT+QFDWL="f.bin"\r'));
  await sleep(300);
  m.faults.reset();
  const resetAt = Buffer.concat(out).length;
  // Wait for the boot banner of the restart.
  expect(await waitFor(() => Buffer.concat(out).toString('latin1').includes('\r\nRDY\r\n'), 15_000)).toBe(true);
  const after = Buffer.concat(out).subarray(resetAt).toString('latin1');
  const beforeBanner = after.slice(0, after.indexOf('\r\nRDY\r\n'));
  expect(beforeBanner).not.toContain('+QFDWL: 5000');
  expect(beforeBanner.length, `${beforeBanner.length} bytes went out after the reset`).toBeLessThan(256);
}, 30_000);

test('AT+QFUPL="RAM:" (an empty name on the RAM drive) is refused like an empty name, not opened for upload', async () => {
  const m = new VirtualModule({ model: 'EC25' });
  disposers.push(() => m.dispose());
  const raw = new RawAtSession(linkOf(m));
  await raw.waitLines(['RDY']);
  expect((await raw.send('AT+QFUPL="",3,1')).final).toBe('+CME ERROR: 406');
  const r = await raw.send('AT+QFUPL="RAM:",3,1', Buffer.from('abc'));
  expect(r.lines).not.toContain('CONNECT');
  expect(r.final).toBe('+CME ERROR: 406');
});

test('two CLI processes on one emulate --tcp server: the second is turned away at once with exit 3, the first is unharmed', async () => {
  const e = await emulate(['--tcp', '0']);
  // The first client holds the line (an AT terminal fed slowly).
  const first = await client(e.url);
  expect(await waitFor(() => first.received().includes('PB DONE'), 10_000)).toBe(true);
  const t0 = Date.now();
  const second = await runCli(['--port', e.url, '--json', 'info'], { timeoutMs: 30_000 });
  expect(second.code).toBe(3);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(() => JSON.parse(second.err.trim().split('\n').at(-1)!)).not.toThrow();
  expect(second.out).toBe('');
  first.socket.write('AT\r');
  expect(await waitFor(() => /AT\r\r\nOK\r\n/.test(first.received()), 5000)).toBe(true);
}, 60_000);
