/**
 * Several connections at once: each reads exactly its own peer's bytes while others are closed, destroyed or ended
 * by their peers around it, and every client id is free again at the end; twelve in use, a thirteenth refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { rig, runCleanups, settle, sleep, tcpServer } from '../attack/harness.js';

afterEach(runCleanups);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('property: concurrent sockets, some closed or destroyed mid-transfer by the app, the rest read whole; no id left taken', async () => {
  const payloads = new Map<number, Buffer>();
  let next = 0;
  const peer = await tcpServer((s) => {
    s.once('data', (d: Buffer) => {
      const n = Number(d.toString().trim());
      const blob = payloads.get(n)!;
      s.end(blob);
    });
  });
  const { modem } = await rig();
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ size: fc.integer({ min: 0, max: 60_000 }), fate: fc.constantFrom('read', 'read', 'close', 'destroy'), after: fc.integer({ min: 0, max: 40 }) }), { minLength: 2, maxLength: 5 }),
    async (plans) => {
      const runs = plans.map(async (p) => {
        const n = next++;
        payloads.set(n, randomBytes(p.size));
        const s = modem.usocket.socket();
        await s.connect(['127.0.0.1', peer.port]);
        await s.send(`${n}\n`);
        if (p.fate === 'read') {
          const got = await s.read();
          expect(sha(got)).toBe(sha(payloads.get(n)!));
          await s.close();
        } else if (p.fate === 'close') {
          await sleep(p.after);
          await s.close();
        } else {
          const st = s.stream();
          st.on('data', () => {});
          st.on('error', () => {});
          await sleep(p.after);
          st.destroy();
          await new Promise((r) => (st.closed ? r(undefined) : st.once('close', r)));
        }
      });
      await Promise.all(runs);
      for (let i = 0; i < 100 && modem.connections.all.length > 0; i++) await sleep(20);
      expect(modem.connections.all.length).toBe(0);
    },
  ), { numRuns: 12 });
}, 60_000);

test('twelve sockets open, the thirteenth is EMFILE; once one is closed the next connect works', async () => {
  const peer = await tcpServer(() => {});
  const { modem } = await rig();
  const socks = [];
  for (let i = 0; i < 12; i++) {
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    socks.push(s);
  }
  const extra = modem.usocket.socket();
  const r = await settle(extra.connect(['127.0.0.1', peer.port]));
  expect(!r.ok && isOSError(r.error, errno.EMFILE)).toBe(true);
  await socks[5]!.close();
  const again = modem.usocket.socket();
  await again.connect(['127.0.0.1', peer.port]);
  expect(again.getsocketsta()).toBe(4);
});
