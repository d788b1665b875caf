/**
 * Two connections on one modem at once: one in push mode whose reader stops and starts at random (so it is paused
 * and resumed), one uploading to a network slower than the line (SEND FAIL storms) and reading its echo. Each gets
 * every byte once, in order; the push connection stays within its bound plus the documented overshoot.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { PUSH_WINDOW } from '../../src/emulator/commands/sockets.js';
import { PUSH_CHUNK } from '../../src/emulator/network/NetConnection.js';
import { sourceBytes, startTlsSourceServer } from '../helpers/tlsPeers.js';
import { cleanups, rig, sleep, useTlsEcho } from '../attack/harness.js';

const peer = useTlsEcho();
const BAUD = 921_600;
const RATE = BAUD / 10 / 1000;
const BOUND = 8 * 1024;

test('property: a paused push reader and a SEND FAIL storm on one modem: both streams exact, the bound held', async () => {
  const source = await startTlsSourceServer({ cert: peer.pki.serverRsa.cert, key: peer.pki.serverRsa.key });
  cleanups.push(() => source.close());
  const trips: number[] = [];
  let asked: number | undefined;
  const { modem, module } = await rig(
    { baud: BAUD, sendBufferBytes: 3000, uplinkBytesPerSecond: 20_000, hosts: { 'source.test': `127.0.0.1:${source.port}`, 'echo.test': `127.0.0.1:${peer.echo.port}` } },
    {
      connections: { maxBuffered: BOUND },
      at: {
        trace: (e) => {
          if (e.dir === 'out' && e.kind === 'command' && /^AT\+QISWTMD=\d+,0$/.test(e.text ?? '')) asked = e.at;
          if (e.dir === 'in' && e.kind === 'line' && e.text === 'OK' && asked !== undefined) {
            trips.push(e.at - asked);
            asked = undefined;
          }
        },
      },
    },
  );
  let refused = 0;
  let pauses = 0;
  module.on('trace', (e) => {
    if (e.from === 'module' && e.kind === 'line' && e.text === 'SEND FAIL') refused++;
  });
  const run = fc.record({
    down: fc.integer({ min: 20_000, max: 48_000 }),
    up: fc.integer({ min: 6000, max: 20_000 }),
    // The first stop is long enough for the module to fill the bound at the line's rate, so every run pauses once.
    stops: fc.array(fc.record({ readMs: fc.integer({ min: 0, max: 60 }), stopMs: fc.integer({ min: 0, max: 250 }), size: fc.integer({ min: 1, max: 9000 }) }), { minLength: 3, maxLength: 12 })
      .map((rest) => [{ readMs: 0, stopMs: 200, size: 1 }, ...rest]),
  });
  await fc.assert(fc.asyncProperty(run, async ({ down, up, stops }) => {
    trips.length = 0;
    const push = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
    await push.connect(['source.test', 443]);
    const echo = await modem.ussl.wrap_socket(modem.usocket.socket());
    await echo.connect(['echo.test', 443]);
    const conn = push.connection!;
    let most = 0;
    conn.on('readable', () => (most = Math.max(most, conn.readableLength)));
    const payload = Buffer.from(Array.from({ length: up }, (_, i) => (i * 13 + up) % 253));
    const uploaded = echo.sendall(payload);
    const echoed = (async () => {
      const got: Buffer[] = [];
      for (let n = 0; n < up;) {
        const b = await echo.recv(4096);
        if (b.length === 0) break;
        got.push(b);
        n += b.length;
      }
      return Buffer.concat(got);
    })();
    await push.send(`DOWN ${down}\n`);
    const got: Buffer[] = [];
    let n = 0;
    for (let i = 0; n < down; i++) {
      const step = stops[i % stops.length]!;
      await sleep(step.stopMs);
      const b = await push.recv(step.size);
      got.push(b);
      n += b.length;
    }
    await uploaded;
    expect(Buffer.concat(got).equals(sourceBytes(0, down))).toBe(true);
    expect((await echoed).equals(payload)).toBe(true);
    expect(most).toBeLessThanOrEqual(BOUND + PUSH_CHUNK + PUSH_WINDOW + PUSH_CHUNK + RATE * Math.max(0, ...trips) + 512);
    pauses += conn.pushPauses;
    await push.close();
    await echo.close();
  }), { numRuns: 2, endOnFailure: true });
  expect(refused).toBeGreaterThan(0);
  expect(pauses).toBeGreaterThan(0);
}, 120_000);
