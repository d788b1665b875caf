/**
 * Latency profiles: named sets of module-side delays, and the delays the send path applies (prompt, SEND OK). Time is
 * moved by fake timers (setTimeout and performance.now(), what the module's sleeps run on), so nothing here depends on
 * the machine's speed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, afterAll, expect, test, vi } from 'vitest';
import { isQuectelError } from '../../src/errors.js';
import { LATENCY_PROFILES, NO_LATENCY, VirtualModule } from '../../src/emulator/index.js';
import { resolveLatency } from '../../src/emulator/latencyProfiles.js';
import { ModuleTap } from '../helpers/ModuleTap.js';

let server: Server;
let port = 0;
const accepted: Socket[] = [];
beforeAll(async () => {
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const modules: VirtualModule[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const m of modules.splice(0)) m.dispose();
});

/** A few event-loop turns: whatever is not waiting on a timer gets done. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

test('profiles resolve by name; a partial profile fills the rest with 0; bad input is INVALID_ARGUMENT', () => {
  expect(resolveLatency('bg96')).toBe(LATENCY_PROFILES.bg96);
  expect(resolveLatency(undefined)).toEqual(NO_LATENCY);
  expect(resolveLatency({ promptMs: 7 })).toEqual({ ...NO_LATENCY, promptMs: 7 });
  for (const bad of ['bg97', { dnsMs: -1 }, { commandMs: Number.NaN }] as const) {
    let error: unknown;
    try {
      resolveLatency(bad as Parameters<typeof resolveLatency>[0]);
    } catch (e) {
      error = e;
    }
    expect(isQuectelError(error, 'INVALID_ARGUMENT')).toBe(true);
  }
  expect(() => new VirtualModule({ latency: 'bg97' as 'bg96' })).toThrow(/unknown latency profile/);
  expect(new VirtualModule({ latency: 'bg96' }).latency).toEqual(LATENCY_PROFILES.bg96);
});

test('every value of every profile is a number of milliseconds ≥ 0, and every knob is set', () => {
  for (const profile of Object.values(LATENCY_PROFILES)) {
    expect(Object.keys(profile).sort()).toEqual(Object.keys(NO_LATENCY).sort());
    for (const ms of Object.values(profile)) expect(ms).toBeGreaterThanOrEqual(0);
  }
});

test('the send prompt waits promptMs and SEND OK waits sendOkMs, after the bytes reached the socket', async () => {
  const m = new VirtualModule({ model: 'BG96', latency: { promptMs: 40, sendOkMs: 70 } });
  modules.push(m);
  const tap = new ModuleTap(m);
  await tap.booted();
  await tap.command('ATE0');
  await tap.command('AT+QIACT=1');
  const connected = new Promise<Socket>((r) => server.once('connection', r));
  tap.write(`AT+QIOPEN=1,0,"TCP","127.0.0.1",${port},0,0\r`);
  await tap.until('+QIOPEN: 0,0\r\n');
  const peer = await connected;
  const received: Buffer[] = [];
  peer.on('data', (d: Buffer) => received.push(d));

  // The module sleeps on the line's clock: performance.now() for the time, setTimeout for the long part of a wait.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  const taken = new Promise<string>((r) => m.once('command', r));
  tap.write('AT+QISEND=0,5\r');
  expect(await taken).toBe('AT+QISEND=0,5');
  await turns();
  await vi.advanceTimersByTimeAsync(39);
  await turns();
  expect(tap.pending.toString('latin1')).toBe('');
  await vi.advanceTimersByTimeAsync(1);
  expect((await tap.until('> ')).toString('latin1')).toBe('\r\n> ');

  tap.write('hello');
  // Wait on the socket, not on time: the payload reaches the peer before SEND OK is due.
  while (Buffer.concat(received).toString() !== 'hello') await turns(1);
  await vi.advanceTimersByTimeAsync(69);
  await turns();
  expect(tap.pending.toString('latin1')).toBe('');
  await vi.advanceTimersByTimeAsync(1);
  expect((await tap.until('SEND OK\r\n')).toString('latin1')).toBe('\r\nSEND OK\r\n');
});
