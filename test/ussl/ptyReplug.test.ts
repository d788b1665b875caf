/**
 * Unplug and replug as a serial device does it: the virtual module on a real pseudo-terminal, its socat killed in
 * the middle of a TLS transfer and started again on the same path. The calls in flight fail with a clear socket
 * error, the modem reconnects by itself and the next wrap works; after close() nothing keeps the process alive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { servePty, VirtualModule } from '../../src/emulator/index.js';
import { Modem } from '../../src/index.js';
import { errno, isOSError } from '../../src/ussl/OSError.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let echo: TlsEchoServer;
let dir: string;
beforeAll(async () => {
  pki = await makePki();
  echo = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  dir = mkdtempSync(join(tmpdir(), 'replug-'));
});
afterAll(async () => {
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

const handles = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap').length;

test('socat killed mid-transfer and restarted on the same path: ECONNRESET, reconnect by itself, the next wrap works, nothing left after close', async () => {
  const before = handles();
  const module = new VirtualModule({ model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${echo.port}` } });
  const link = join(dir, 'ttyV0');
  let pty = await servePty(module, link);
  const modem = await Modem.open(link, { reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
  try {
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    await s.connect(['myssl.test', 443]);
    s.settimeout(20);
    const sending = s.sendall(randomBytes(512 * 1024)).then(() => 'sent', (e: unknown) => e);
    const receiving = s.read(512 * 1024).then(() => 'read', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300)); // well inside the transfer: 512 KiB each way takes seconds
    await pty.close(); // the cable is pulled: socat and its link are gone
    for (const r of [await sending, await receiving]) {
      expect(isOSError(r, errno.ECONNRESET) || isOSError(r, errno.ENODEV), String(r)).toBe(true);
    }
    expect(modem.state).toMatch(/reconnecting|opening/);
    pty = await servePty(module, link); // plugged in again, same path
    await modem.whenReady(20_000);

    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    await t.connect(['myssl.test', 443]);
    const data = randomBytes(64 * 1024);
    await t.sendall(data);
    const back = await t.read(data.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await t.close();
  } finally {
    await modem.close();
    await pty.close();
    module.dispose();
  }
  await new Promise((r) => setTimeout(r, 200));
  expect(handles()).toBeLessThanOrEqual(before);
}, 60_000);
