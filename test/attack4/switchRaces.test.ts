/**
 * The push ↔ buffer switch (AT+QISWTMD) with something else happening while it is in flight: the peer closing, the
 * application closing, the module restarting, the port unplugged. The virtual module holds the URCs a command's run
 * produces and puts them out before the switch's OK (old mode before, new mode after).
 */
import { expect, test } from 'vitest';
import type { VirtualModule } from '../../src/emulator/index.js';
import { isOSError } from '../../src/index.js';
import type { Socket } from '../../src/ussl/Socket.js';
import { sourceBytes, startTlsSourceServer, type TlsSourceServer } from '../helpers/tlsPeers.js';
import { cleanups, rig, sleep, useTlsEcho, within } from '../attack/harness.js';

const peer = useTlsEcho();
const BOUND = 8 * 1024;

let source: TlsSourceServer | undefined;
async function sourcePort(): Promise<number> {
  if (!source) {
    source = await startTlsSourceServer({ cert: peer.pki.serverRsa.cert, key: peer.pki.serverRsa.key });
    const s = source;
    cleanups.push(async () => {
      await s.close();
      source = undefined;
    });
  }
  return source.port;
}

async function setUp() {
  const port = await sourcePort();
  const r = await rig({ baud: 921_600, hosts: { 'source.test': `127.0.0.1:${port}` } }, { connections: { maxBuffered: BOUND } });
  const s = await r.modem.ussl.wrap_socket(r.modem.usocket.socket(), { receive: 'push' });
  await s.connect(['source.test', 443]);
  return { ...r, s };
}

/** Runs `action` the moment the module starts running a command that starts with `prefix`. */
function onCommand(module: VirtualModule, prefix: string, action: () => void): void {
  const listener = (line: string) => {
    if (!line.startsWith(prefix)) return;
    module.off('command', listener);
    action();
  };
  module.on('command', listener);
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) await sleep(5);
  return check();
}

/** Reads until b'' (or an error, or `ms` without the end). */
async function readToEnd(s: Socket, ms: number): Promise<{ bytes: Buffer; end: string }> {
  const got: Buffer[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await within(s.recv(4096).then((b) => b, (e: unknown) => e as Error), Math.max(1, deadline - Date.now()));
    if (r === 'HUNG') return { bytes: Buffer.concat(got), end: 'HUNG' };
    if (r instanceof Error) return { bytes: Buffer.concat(got), end: r.message };
    if (r.length === 0) return { bytes: Buffer.concat(got), end: 'EOF' };
    got.push(r);
  }
}


/** A new push socket on the same modem reads the source's first 3000 bytes exactly: the id and push mode work again. */
async function pushStillWorks(modem: Awaited<ReturnType<typeof setUp>>['modem']): Promise<void> {
  const again = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
  await again.connect(['source.test', 443]);
  await again.send('DOWN 3000\n');
  expect((await again.read(3000)).equals(sourceBytes(0, 3000))).toBe(true);
  await again.close();
}
test('the peer closes while AT+QISWTMD=<id>,1 (back to push) is in flight: every byte, then EOF', async () => {
  const { module, s } = await setUp();
  const total = 24 * 1024;
  await s.send(`DOWN ${total}\n`);
  expect(await until(() => s.connection!.accessMode === 'buffer', 3000)).toBe(true);
  await sleep(300); // all of it is on the host or in the module now
  // The switch back waits 300 ms in the module; the peer goes during it.
  module.faults.delayResponse(300, 'AT+QISWTMD=0,1');
  onCommand(module, 'AT+QISWTMD=0,1', () => module.faults.peerClose(0));
  const r = await readToEnd(s, 5000);
  expect(r.bytes.equals(sourceBytes(0, total))).toBe(true);
  const conn = s.connection!;
  expect(r.end, `peerClosed ${conn.peerClosed}, access mode ${conn.accessMode}, state ${conn.state}`).toBe('EOF');
}, 20_000);

test('the peer closes while AT+QISWTMD=<id>,0 (the pause) is in flight: every byte, then EOF', async () => {
  const { module, s } = await setUp();
  const total = 24 * 1024;
  module.faults.delayResponse(300, 'AT+QISWTMD=0,0');
  onCommand(module, 'AT+QISWTMD=0,0', () => setTimeout(() => module.faults.peerClose(0), 50));
  await s.send(`DOWN ${total}\n`);
  await sleep(600);
  const r = await readToEnd(s, 5000);
  expect(r.bytes.length).toBe(total);
  expect(r.bytes.equals(sourceBytes(0, total))).toBe(true);
  expect(r.end).toBe('EOF');
}, 20_000);

test('close() while the pause is in flight: it resolves, the id is freed, a new push socket works', async () => {
  const { modem, module, s } = await setUp();
  module.faults.delayResponse(300, 'AT+QISWTMD=0,0');
  let closing: Promise<void> | undefined;
  onCommand(module, 'AT+QISWTMD=0,0', () => (closing = s.close()));
  await s.send(`DOWN ${32 * 1024}\n`);
  expect(await until(() => closing !== undefined, 3000)).toBe(true);
  expect(await within(closing!, 5000)).not.toBe('HUNG');
  await pushStillWorks(modem);
}, 20_000);

test('the module restarts during the pause: the socket fails (ECONNRESET), the modem comes back, push works', async () => {
  const { modem, module, s } = await setUp();
  module.faults.resetDuringCommand('AT+QISWTMD=0,0');
  await s.send(`DOWN ${32 * 1024}\n`);
  await sleep(500);
  const r = await readToEnd(s, 8000);
  expect(r.end).not.toBe('HUNG');
  expect(r.end).not.toBe('EOF'); // the stream broke; it did not end
  await modem.whenReady(20_000);
  await pushStillWorks(modem);
}, 30_000);

test('the port is unplugged during the pause: the socket fails (no hang), the modem comes back after replug', async () => {
  const { modem, module, s } = await setUp();
  module.faults.delayResponse(300, 'AT+QISWTMD=0,0');
  onCommand(module, 'AT+QISWTMD=0,0', () => module.faults.unplug());
  await s.send(`DOWN ${32 * 1024}\n`);
  await sleep(500);
  const failure = await within(s.read(64 * 1024).then(() => 'read', (e: unknown) => e), 8000);
  expect(failure === 'HUNG' || failure === 'read' ? failure : isOSError(failure) ? 'OSError' : String(failure)).toBe('OSError');
  module.faults.replug();
  await modem.whenReady(20_000);
  await pushStillWorks(modem);
}, 30_000);
