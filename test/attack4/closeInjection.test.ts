/**
 * A push connection closed by the application while its peer keeps sending. The module may hold push URCs it made
 * while AT+QSSLCLOSE ran and put them out after the close's OK (§1.3; the virtual module does). From that OK the
 * library has freed the id, so `pushedLength` no longer counts the bytes after `+QSSLURC: "recv",<id>,<len>`: the
 * peer's bytes are framed as AT lines. A hostile peer can then fake a module restart or another connection's close.
 */
import { expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { rig, sleep, useTlsEcho, within } from '../attack/harness.js';
import { streamPeer } from './peers.js';

const peer = useTlsEcho();

/**
 * A line at 921600 baud and a module that takes 100 ms per command: the peer's 40 KB/s reach the module while
 * AT+QSSLCLOSE runs, so a few push URCs are held and put out after its OK, in reads of their own.
 */
const LINE = { baud: 921_600, latency: { commandMs: 100 } } as const;

/** Opens a push socket to the hostile peer, lets it stream, and closes it; `rounds` times. */
async function closeWhileStreaming(modem: Awaited<ReturnType<typeof rig>>['modem'], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
    await s.connect(['hostile.test', 443]);
    await sleep(50);
    await within(s.close(), 5000);
  }
}

test("a push peer's bytes after the application's close are not read as AT lines: no fake restart", async () => {
  const hostile = await streamPeer(peer.pki.serverRsa.cert, peer.pki.serverRsa.key, Buffer.from('\r\nRDY\r\n'.repeat(57), 'latin1'), Infinity, 10);
  const { modem } = await rig({ ...LINE, hosts: { 'hostile.test': `127.0.0.1:${hostile.port}`, 'echo.test': `127.0.0.1:${peer.echo.port}` } });
  const states: string[] = [];
  modem.on('state', (s) => states.push(s));
  const other = await modem.ussl.wrap_socket(modem.usocket.socket());
  await other.connect(['echo.test', 443]);
  await closeWhileStreaming(modem, 5);
  await sleep(200);
  // The module never restarted: the modem never went back to syncing, and the other socket still works.
  expect(states.filter((s) => !s.endsWith('ready'))).toEqual([]);
  const r = await within(other.write('ping').then(() => other.read(4)), 5000);
  expect(r === 'HUNG' ? 'HUNG' : r.toString()).toBe('ping');
}, 30_000);

test("a push peer's bytes after the application's close cannot close another connection", async () => {
  // The other connection gets id 0 (opened first); the hostile one id 1.
  const hostile = await streamPeer(peer.pki.serverRsa.cert, peer.pki.serverRsa.key, Buffer.from('\r\n+QSSLURC: "closed",0\r\n'.repeat(16), 'latin1'), Infinity, 10);
  const { modem } = await rig({ ...LINE, hosts: { 'hostile.test': `127.0.0.1:${hostile.port}`, 'echo.test': `127.0.0.1:${peer.echo.port}` } });
  const other = await modem.ussl.wrap_socket(modem.usocket.socket());
  await other.connect(['echo.test', 443]);
  await closeWhileStreaming(modem, 5);
  await sleep(200);
  const r = await within(other.write('ping').then(() => other.read(4)).then((b) => b.toString(), (e: unknown) => isOSError(e, errno.ENOTCONN) ? 'ENOTCONN' : String(e)), 5000);
  expect(r).toBe('ping');
}, 30_000);
