/**
 * SEND FAIL storms (a peer slower than the line fills the module's send buffer) combined with the application's
 * close, at the Connection level (what usocket/ussl and the streams build on).
 */
import { expect, test } from 'vitest';
import type { VirtualModule } from '../../src/emulator/index.js';
import { Modem, type Connection } from '../../src/index.js';
import { cleanups, rig, runCleanups, sleep, tcpServer, within } from '../attack/harness.js';
import { afterEach } from 'vitest';

afterEach(runCleanups);

/** A TCP sink on loopback; the module's uplink takes `rate` bytes/s into a `buffer`-byte send buffer. */
async function slowPath(rate: number, buffer: number) {
  const received: Buffer[] = [];
  const sink = await tcpServer((s) => s.on('data', (d: Buffer) => received.push(d)));
  const r = await rig({ sendBufferBytes: buffer, uplinkBytesPerSecond: rate });
  const refusals = countRefusals(r.module);
  const conn = await r.modem.connections.open({ kind: 'tcp', host: '127.0.0.1', port: sink.port });
  return { ...r, conn, sink, received, refusals };
}

/** Counts the module's SEND FAIL answers. */
function countRefusals(module: VirtualModule): () => number {
  let refusals = 0;
  module.on('trace', (e) => {
    if (e.from === 'module' && e.kind === 'line' && e.text === 'SEND FAIL') refusals++;
  });
  return () => refusals;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) await sleep(5);
  return check();
}

/** The connection's 'error' events, as their messages. */
function errors(conn: Connection): string[] {
  const seen: string[] = [];
  conn.on('error', (e) => seen.push(`${e.name}: ${e.message}`));
  return seen;
}

test("close('abort') in a SEND FAIL storm closes at once: no send after it, no error of the library's own", async () => {
  const { conn, commands, refusals } = await slowPath(300, 2048);
  const seen = errors(conn);
  conn.enqueue(Buffer.alloc(20_000, 0x41));
  expect(await until(() => refusals() >= 2, 5000)).toBe(true);
  commands.length = 0;
  const t0 = Date.now();
  const closed = await within(conn.close('abort'), 10_000);
  const took = Date.now() - t0;
  expect(closed).not.toBe('HUNG');
  // "abort drops the queue and closes at once (…,0)": the send waiting out a refusal is not sent again.
  expect.soft(commands.filter((c) => c.startsWith('AT+QISEND'))).toEqual([]);
  expect.soft(took).toBeLessThan(1000);
  expect(seen.filter((m) => m.startsWith('TypeError'))).toEqual([]);
}, 30_000);

test("the peer answers and closes while an upload waits out SEND FAILs: its answer is still readable", async () => {
  // A server that refuses a large upload the HTTP way: it answers after the first bytes, and closes.
  const answer = 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n';
  const sink = await tcpServer((s) => {
    s.once('data', () => setTimeout(() => s.end(answer), 300));
  });
  const { modem, module } = await rig({ sendBufferBytes: 2048, uplinkBytesPerSecond: 1000 });
  const refusals = countRefusals(module);
  const s = modem.usocket.socket();
  await s.connect(['127.0.0.1', sink.port]);
  const upload = s.sendall(Buffer.alloc(30_000, 0x42)).then(() => 'sent', (e: unknown) => String(e));
  const r = await within(upload, 10_000);
  expect(refusals(), 'the upload met SEND FAIL').toBeGreaterThan(0);
  expect(r).not.toBe('HUNG');
  // The upload cannot finish (the peer is gone); the answer the peer sent before it went is the application's.
  const got = await within(s.recv(1024).then((b) => b.toString('latin1'), (e: unknown) => `raised ${String(e)}`), 5000);
  expect(got).toBe(answer);
  await s.close();
}, 30_000);

test.each([
  ['firstMs 0', { firstMs: 0 }],
  ['firstMs NaN', { firstMs: Number.NaN }],
  ['maxMs -1', { maxMs: -1, firstMs: -1 }],
])('a retry policy with %s is refused when the modem opens, or still waits between retries', async (_name, policy) => {
  const sink = await tcpServer((s) => s.resume());
  const module = (await import('../../src/emulator/index.js')).VirtualModule;
  const m = new module({ model: 'EC25', sendBufferBytes: 2048, uplinkBytesPerSecond: 4000 });
  cleanups.push(() => m.dispose());
  const refusals = countRefusals(m);
  const opened = await Modem.open(m, { connections: { sendRetry: { kind: 'paced', ...policy } } }).then((x) => x, (e: unknown) => e as Error);
  if (opened instanceof Error) {
    expect((opened as { code?: string }).code).toBe('INVALID_ARGUMENT');
    return;
  }
  cleanups.push(() => opened.close());
  const s = opened.usocket.socket();
  await s.connect(['127.0.0.1', sink.port]);
  // 8 KB to a network that takes 4 KB/s: two seconds of waiting for room, which a retry policy is for.
  const r = await within(s.sendall(Buffer.alloc(8000, 0x44)).then(() => 'sent', (e: unknown) => String(e)), 15_000);
  expect(r, `${refusals()} SEND FAILs`).toBe('sent');
}, 30_000);
