/**
 * A push-mode stream destroyed or a socket closed at a random moment of a slow, stop-and-go read (so at random
 * points of the push ↔ buffer switch): the close settles, the client id is freed, nothing is left on the modem,
 * and the next push connection gets its bytes exactly once, in order.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { sourceBytes, startTlsSourceServer } from '../helpers/tlsPeers.js';
import { cleanups, rig, sleep, useTlsEcho, within } from '../attack/harness.js';

const peer = useTlsEcho();

test('property: close or destroy anywhere in a paused/resumed push read; the modem is clean after', async () => {
  const source = await startTlsSourceServer({ cert: peer.pki.serverRsa.cert, key: peer.pki.serverRsa.key });
  cleanups.push(() => source.close());
  const { modem } = await rig({ baud: 921_600, hosts: { 'source.test': `127.0.0.1:${source.port}` } }, { connections: { maxBuffered: 6 * 1024 } });
  const run = fc.record({
    how: fc.constantFrom('close', 'destroy'),
    afterMs: fc.integer({ min: 0, max: 400 }),
    readEvery: fc.integer({ min: 1, max: 40 }),
    readSize: fc.integer({ min: 100, max: 4000 }),
  });
  await fc.assert(fc.asyncProperty(run, async ({ how, afterMs, readEvery, readSize }) => {
    let settled: Promise<unknown>;
    if (how === 'close') {
      const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
      await s.connect(['source.test', 443]);
      await s.send('DOWN 60000\n');
      let stop = false;
      const reader = (async () => {
        while (!stop) {
          await sleep(readEvery);
          await s.recv(readSize).catch(() => (stop = true));
        }
      })();
      await sleep(afterMs);
      settled = s.close();
      stop = true;
      await reader;
    } else {
      const d = modem.connectTls({ host: 'source.test', port: 443, receive: 'push' });
      await new Promise<void>((r, j) => d.once('secureConnect', () => r()).once('error', j));
      d.write('DOWN 60000\n');
      d.on('error', () => undefined);
      d.pause();
      const t = setInterval(() => d.read(readSize), readEvery);
      await sleep(afterMs);
      clearInterval(t);
      settled = new Promise((r) => d.once('close', r));
      d.destroy();
    }
    expect(await within(settled, 8000)).not.toBe('HUNG');
    for (const end = Date.now() + 3000; modem.connections.all.length > 0 && Date.now() < end;) await sleep(10);
    expect(modem.connections.all.map((c) => `${c.id} ${c.state} ${c.accessMode}`)).toEqual([]);
    const again = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
    await again.connect(['source.test', 443]);
    await again.send('DOWN 2000\n');
    expect((await again.read(2000)).equals(sourceBytes(0, 2000))).toBe(true);
    await again.close();
  }), { numRuns: 8, endOnFailure: true });
}, 90_000);
