/**
 * Push mode's bound (`maxBuffered` plus the overshoot Connection.ts documents) when the connection's one worker is
 * busy with something else than reading: here, waiting out SEND FAILs of an upload to a slow network.
 */
import { expect, test } from 'vitest';
import { PUSH_WINDOW } from '../../src/emulator/commands/sockets.js';
import { PUSH_CHUNK } from '../../src/emulator/network/NetConnection.js';
import { sourceBytes } from '../helpers/tlsPeers.js';
import { rig, sleep, useTlsEcho } from '../attack/harness.js';
import { twoWayPeer } from './peers.js';

const peer = useTlsEcho();
const BAUD = 921_600;
const BOUND = 8 * 1024;
const RATE = BAUD / 10 / 1000;

test('an upload waiting out SEND FAILs does not let push mode pass its bound: the pause is sent between retries', async () => {
  const down = 200 * 1024;
  const p = await twoWayPeer(peer.pki.serverRsa.cert, peer.pki.serverRsa.key, down, 300);
  const trips: number[] = [];
  let asked: number | undefined;
  const { modem } = await rig(
    { baud: BAUD, sendBufferBytes: 2048, uplinkBytesPerSecond: 300, hosts: { 'two.test': `127.0.0.1:${p.port}` } },
    {
      connections: { maxBuffered: BOUND },
      at: {
        trace: (e) => {
          if (e.dir === 'out' && e.kind === 'command') asked = /^AT\+QISWTMD=\d+,0$/.test(e.text ?? '') ? e.at : asked;
          if (e.dir === 'in' && e.kind === 'line' && e.text === 'OK' && asked !== undefined) {
            trips.push(e.at - asked);
            asked = undefined;
          }
        },
      },
    },
  );
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
  await s.connect(['two.test', 443]);
  const conn = s.connection!;
  let most = 0;
  conn.on('readable', () => (most = Math.max(most, conn.readableLength)));
  conn.enqueue(Buffer.alloc(6000, 0x55)); // 5 s of uplink: SEND FAILs while the download comes
  await sleep(2500);
  const allowed = BOUND + PUSH_CHUNK + PUSH_WINDOW + PUSH_CHUNK + RATE * Math.max(0, ...trips) + 512;
  expect(most, `held ${most} bytes; switch round trips ${JSON.stringify(trips)}`).toBeLessThanOrEqual(allowed);
  // And every byte still arrives in order once read.
  const got: Buffer[] = [];
  for (let n = 0; n < down;) {
    const b = await s.recv(8192);
    got.push(b);
    n += b.length;
  }
  expect(Buffer.concat(got).equals(sourceBytes(0, down))).toBe(true);
  await s.close();
}, 30_000);

test('a graceful close sending a long queue does not let push mode pass its bound meanwhile', async () => {
  const p = await twoWayPeer(peer.pki.serverRsa.cert, peer.pki.serverRsa.key, 160 * 1024, 100);
  const { modem } = await rig({ baud: BAUD, hosts: { 'two.test': `127.0.0.1:${p.port}` } }, { connections: { maxBuffered: BOUND, sendHighWater: 1 << 20 } });
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
  await s.connect(['two.test', 443]);
  const conn = s.connection!;
  let most = 0;
  conn.on('readable', () => (most = Math.max(most, conn.readableLength)));
  conn.enqueue(Buffer.alloc(100 * 1024, 0x55)); // about a second of line
  const closed = s.close(); // graceful: the queue goes out first; nobody reads any more
  await closed;
  // Nothing switches the module to buffer mode once the close began: every pushed byte is kept, for nobody.
  // (The bound plus its documented overshoot at this baud, with a generous 100 ms switch round trip.)
  expect(most, `held ${most} bytes during the close`).toBeLessThanOrEqual(BOUND + PUSH_CHUNK + PUSH_WINDOW + PUSH_CHUNK + RATE * 100);
}, 30_000);
