/**
 * Push mode with a reader slower than the line, through the public API against the virtual module on a paced line
 * (921600 baud) and a TLS peer that sends on request: the connection's buffer never passes `maxBuffered` by more
 * than the overshoot `Connection.ts` documents (the URC that reached the bound, what the module had committed to the
 * line, and the line's rate times the switch's round trip, measured from the AT trace), every byte arrives in order,
 * and the connection is back in push mode afterwards (fast-check over reader paces and sizes). Then the peer closing,
 * the application closing and the module restarting while push mode is paused.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { PUSH_WINDOW } from '../../src/emulator/commands/sockets.js';
import { PUSH_CHUNK } from '../../src/emulator/network/NetConnection.js';
import { isOSError, errno } from '../../src/index.js';
import type { Socket } from '../../src/ussl/Socket.js';
import { rig, runCleanups, sleep, within } from '../attack/harness.js';
import { makePki } from '../helpers/pki.js';
import { sourceBytes, startTlsSourceServer, type TlsSourceServer } from '../helpers/tlsPeers.js';

const BAUD = 921_600;
const BOUND = 8 * 1024;
/** Line bytes per millisecond. */
const RATE = BAUD / 10 / 1000;

let source: TlsSourceServer;
beforeAll(async () => {
  const pki = await makePki();
  source = await startTlsSourceServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
}, 60_000);
afterAll(async () => {
  await runCleanups();
  await source.close();
});

/** A modem on a paced virtual EC25 with the rx bound at {@link BOUND}; the round trips of every AT+QISWTMD. */
async function paced() {
  const trips: number[] = [];
  let asked: number | undefined;
  const { modem, module, commands } = await rig({ baud: BAUD, hosts: { 'source.test': `127.0.0.1:${source.port}` } }, {
    connections: { maxBuffered: BOUND },
    at: {
      trace: (e: AtTraceEvent) => {
        if (e.dir === 'out' && e.kind === 'command') asked = /^AT\+QISWTMD=\d+,0$/.test(e.text ?? '') ? e.at : undefined;
        if (e.dir === 'in' && e.kind === 'line' && e.text === 'OK' && asked !== undefined) {
          trips.push(e.at - asked);
          asked = undefined;
        }
      },
    },
  });
  return { modem, module, commands, trips };
}

async function pushSocket(modem: Awaited<ReturnType<typeof paced>>['modem']): Promise<Socket> {
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
  await s.connect(['source.test', 443]);
  return s;
}

/** The most the connection held, seen at every append. */
function watchMost(s: Socket): () => number {
  let most = 0;
  const conn = s.connection!;
  conn.on('readable', () => (most = Math.max(most, conn.readableLength)));
  return () => most;
}

/** What the documented overshoot allows, given the slowest switch seen. */
const allowed = (trips: readonly number[]) => BOUND + PUSH_CHUNK + PUSH_WINDOW + PUSH_CHUNK + RATE * Math.max(0, ...trips) + 512;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(10);
  return check();
}

test('property: a reader slower than the line never lets the buffer pass the bound and the overshoot; every byte in order; push mode again after', async () => {
  const { modem, trips } = await paced();
  const run = fc.record({
    total: fc.integer({ min: 40 * 1024, max: 64 * 1024 }),
    bytesPerMs: fc.integer({ min: 15, max: 45 }), // the line carries 92
    everyMs: fc.integer({ min: 5, max: 25 }),
  });
  await fc.assert(fc.asyncProperty(run, async ({ total, bytesPerMs, everyMs }) => {
    trips.length = 0;
    const s = await pushSocket(modem);
    const conn = s.connection!;
    const most = watchMost(s);
    await s.send(`DOWN ${total}\n`);
    const got: Buffer[] = [];
    for (let n = 0; n < total;) {
      await sleep(everyMs);
      const b = await s.recv(bytesPerMs * everyMs);
      got.push(b);
      n += b.length;
    }
    expect(most()).toBeLessThanOrEqual(allowed(trips));
    expect(Buffer.concat(got).equals(sourceBytes(0, total))).toBe(true);
    expect(conn.pushPauses).toBeGreaterThan(0);
    expect(await until(() => conn.accessMode === 'push', 3000)).toBe(true);
    await s.close();
  }), { numRuns: 4, endOnFailure: true });
}, 60_000);

test('the peer closes while push mode is paused: what the module kept is read at the reader\'s pace, then EOF', async () => {
  const { modem, trips } = await paced();
  const s = await pushSocket(modem);
  const most = watchMost(s);
  const total = 48 * 1024;
  await s.send(`DOWN ${total}\nBYE\n`);
  expect(await until(() => s.connection!.accessMode === 'buffer', 3000)).toBe(true);
  await sleep(300); // everything is in the module or the host by now, and the peer is gone
  const got: Buffer[] = [];
  for (;;) {
    await sleep(10);
    const b = await s.recv(512);
    if (b.length === 0) break;
    got.push(b);
  }
  expect(Buffer.concat(got).equals(sourceBytes(0, total))).toBe(true);
  expect(most()).toBeLessThanOrEqual(allowed(trips));
  await s.close();
}, 20_000);

test('the application closes while push mode is paused: AT+QSSLCLOSE, no switch back', async () => {
  const { modem, commands } = await paced();
  const s = await pushSocket(modem);
  commands.length = 0;
  await s.send(`DOWN ${64 * 1024}\n`);
  expect(await until(() => s.connection!.accessMode === 'buffer', 3000)).toBe(true);
  expect(await within(s.close(), 5000)).not.toBe('HUNG');
  expect(commands.filter((c) => /^AT\+(QISWTMD|QSSLCLOSE)/.test(c))).toEqual(['AT+QISWTMD=0,0', 'AT+QSSLCLOSE=0']);
  // The id is free and the modem fine: a new push socket gets data.
  const again = await pushSocket(modem);
  await again.send('DOWN 100\n');
  expect((await again.read(100)).equals(sourceBytes(0, 100))).toBe(true);
  await again.close();
}, 20_000);

test('the module restarts while push mode is paused: the socket fails with ECONNRESET, the modem comes back, push works again', async () => {
  const { modem, module } = await paced();
  const s = await pushSocket(modem);
  await s.send(`DOWN ${64 * 1024}\n`);
  expect(await until(() => s.connection!.accessMode === 'buffer', 3000)).toBe(true);
  module.faults.reset();
  const failure = await s.read(64 * 1024 + 1).then(() => undefined, (e: unknown) => e);
  expect(isOSError(failure, errno.ECONNRESET), String(failure)).toBe(true);
  await modem.whenReady(20_000);
  const again = await pushSocket(modem);
  await again.send('DOWN 5000\n');
  expect((await again.read(5000)).equals(sourceBytes(0, 5000))).toBe(true);
  expect(again.connection!.accessMode).toBe('push');
  await again.close();
}, 30_000);
