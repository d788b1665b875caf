/**
 * SEND FAIL storms (a peer slower than the line fills the module's send buffer) combined with the application's
 * close, at the Connection level (what usocket/ussl and the streams build on).
 */
import { expect, test } from 'vitest';
import type { Connection } from '../../src/index.js';
import { rig, runCleanups, sleep, tcpServer, within } from '../attack/harness.js';
import { afterEach } from 'vitest';

afterEach(runCleanups);

/** A TCP sink on loopback; the module's uplink takes `rate` bytes/s into a `buffer`-byte send buffer. */
async function slowPath(rate: number, buffer: number) {
  const received: Buffer[] = [];
  const sink = await tcpServer((s) => s.on('data', (d: Buffer) => received.push(d)));
  const r = await rig({ sendBufferBytes: buffer, uplinkBytesPerSecond: rate });
  let refusals = 0;
  r.module.on('trace', (e) => {
    if (e.from === 'module' && e.kind === 'line' && e.text === 'SEND FAIL') refusals++;
  });
  const conn = await r.modem.connections.open({ kind: 'tcp', host: '127.0.0.1', port: sink.port });
  return { ...r, conn, sink, received, refusals: () => refusals };
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
