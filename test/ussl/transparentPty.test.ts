/**
 * Transparent mode and direct push over a real pseudo-terminal: the virtual module served by socat, the library on
 * the other end through serialport's native binding (a real tcdrain before each escape), a Node TLS peer behind
 * the module. 1 MiB each way, equal by SHA-256; then the stream closes through its escape and the modem is usable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { servePty, VirtualModule } from '../../src/emulator/index.js';
import { Modem } from '../../src/index.js';
import { makePki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

const MiB = 1024 * 1024;
const GUARD = 200;
let echo: TlsEchoServer;
let dir: string;
beforeAll(async () => {
  const pki = await makePki();
  echo = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  dir = mkdtempSync(join(tmpdir(), 'transparent-pty-'));
}, 60_000);
afterAll(async () => {
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test.each(['transparent', 'push'] as const)('%s over a socat pty: 1 MiB each way through TLS, equal by SHA-256', async (receive) => {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${echo.port}` }, guardTimeMs: GUARD });
  const link = join(dir, `tty-${receive}`);
  const pty = await servePty(module, link);
  const modem = await Modem.open(link, { dataModeUrcPort: 'usbmodem', at: { guardTimeMs: GUARD } });
  try {
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive });
    await s.connect(['echo.test', 443]);
    const data = randomBytes(MiB);
    data.write('+++\r\nNO CARRIER\r\n+++', 4096, 'latin1');
    const t0 = performance.now();
    const [back] = await Promise.all([s.read(MiB), s.sendall(data)]);
    console.log(`${receive} over a socat pty: 1 MiB each way in ${(performance.now() - t0).toFixed(0)} ms (unpaced)`);
    expect(sha(back)).toBe(sha(data));
    await s.close();
    expect(modem.at.engine.dataChannel).toBeUndefined();
    expect((await modem.send('AT+QSSLSTATE')).lines).toEqual([]);
  } finally {
    await modem.close();
    await pty.close();
    module.dispose();
  }
}, 120_000);
