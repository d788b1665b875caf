/** Attacks on the peer closing at every point, PDP loss during an open, and timed-out opens. */
import { randomBytes, createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { rig, useTlsEcho, settle, sleep, tcpServer, within } from './harness.js';

const shared = useTlsEcho();
const hosts = () => ({ 'tls.test': `127.0.0.1:${shared.echo.port}` });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('PDP loss while an open waits for its result', () => {
  test('connect settles within seconds once the modem reported the sockets lost (no 450 s wait)', async () => {
    const { modem, module } = await rig({ hosts: hosts(), latency: { handshakeMs: 3000 } }, { pdpRecovery: { initialDelayMs: 50 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    const c = settle(s.connect(['tls.test', 443]));
    await sleep(100);
    module.faults.pdpDeactivate(1);
    const r = await within(c, 8000);
    expect(r === 'HUNG' ? 'HUNG' : r.ok ? 'connected' : (r.error as { errno?: number }).errno).toBe(errno.ECONNRESET);
  }, 20_000);

  test('a socket whose open survived a PDP loss report must not close another socket\'s client id later', async () => {
    const echo = await tcpServer((x) => x.pipe(x));
    const { modem, module } = await rig({ hosts: hosts(), latency: { handshakeMs: 300 } }, { pdpRecovery: { initialDelayMs: 1000 } });
    const a = await modem.ussl.wrap_socket(modem.usocket.socket());
    const ca = settle(a.connect(['tls.test', 443]));
    await sleep(100);
    module.faults.pdpDeactivate(1);
    await ca; // resolves "connected" today (see lifecycle.test.ts)
    await modem.whenReady(10_000);
    const b = modem.usocket.socket();
    await b.connect(['127.0.0.1', echo.port]);
    await a.close().catch(() => undefined); // closing the stale socket
    await b.send('still here\n');
    const r = await settle(b.readline());
    expect(r.ok ? r.value.toString() : String(r.error)).toBe('still here\n');
    await b.close();
  }, 20_000);
});

describe('the peer closes', () => {
  for (const tls of [false, true]) {
    test(`${tls ? 'TLS' : 'TCP'}: 300 KB then close, read slowly after the close: all bytes, then EOF`, async () => {
      const data = randomBytes(300_000);
      const peer = await tcpServer((x) => x.end(data));
      const { modem } = await rig({ hosts: { 'bye.test': `127.0.0.1:${peer.port}` } });
      if (tls) {
        // a TLS peer that sends 300 KB and closes
        const { default: tlsMod } = await import('node:tls');
        const srv = tlsMod.createServer({ cert: shared.pki.serverRsa.cert, key: shared.pki.serverRsa.key }, (x) => x.end(data));
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        const port = (srv.address() as { port: number }).port;
        const s = await modem.ussl.wrap_socket(modem.usocket.socket());
        await s.connect(['127.0.0.1', port]);
        await sleep(1000);
        const got = await within(s.read(), 10_000);
        expect(got === 'HUNG' ? 'HUNG' : sha(got)).toBe(sha(data));
        expect((await s.recv(10)).length).toBe(0);
        await s.close();
        srv.close();
      } else {
        const s = modem.usocket.socket();
        await s.connect(['bye.test', 1]);
        await sleep(1000);
        const got = await within(s.read(), 10_000);
        expect(got === 'HUNG' ? 'HUNG' : sha(got)).toBe(sha(data));
        expect((await s.recv(10)).length).toBe(0);
        await s.close();
      }
    }, 20_000);
  }

  test('the peer closes in the middle of a 1 MB sendall: it fails with EPIPE/ECONNRESET, no hang', async () => {
    const peer = await tcpServer((x) => {
      let n = 0;
      x.on('data', (d: Buffer) => {
        n += d.length;
        if (n > 20_000) x.destroy();
      });
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const r = await within(settle(s.sendall(randomBytes(1024 * 1024))), 10_000);
    expect(r !== 'HUNG' && !r.ok && (isOSError(r.error, errno.EPIPE) || isOSError(r.error, errno.ECONNRESET)), JSON.stringify(r)).toBe(true);
    await s.close();
  });

  test('module-side peer close (faults.peerClose) during a pending recv: recv returns empty bytes', async () => {
    const { modem, module } = await rig({ hosts: hosts() });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    const pending = settle(s.recv(10));
    await sleep(50);
    module.faults.peerClose(s.connection!.id);
    const r = await within(pending, 5000);
    expect(r !== 'HUNG' && r.ok ? r.value.length : r).toBe(0);
    await s.close();
  });
});

describe('opens that time out', () => {
  test('15 TLS connects that time out one after the other leak neither client ids nor SSL contexts', async () => {
    const { modem } = await rig({ hosts: hosts(), latency: { handshakeMs: 500 } });
    for (let i = 0; i < 15; i++) {
      const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 10 + (i % 7) });
      s.settimeout(0.1);
      const r = await settle(s.connect(['tls.test', 443]));
      expect(!r.ok && isOSError(r.error, errno.ETIMEDOUT), String(!r.ok && r.error)).toBe(true);
    }
    await sleep(600);
    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { negotiate_timeout: 200 });
    await t.connect(['tls.test', 443]);
    await t.close();
    expect(modem.connections.all.length).toBe(0);
  }, 30_000);
});
