/** Attacks with hostile payloads, tiny and huge sends, push mode, many sockets. */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { rig, useTlsEcho, settle, sleep, tcpServer, within } from './harness.js';

const peer = useTlsEcho();
const hosts = () => ({ 'tls.test': `127.0.0.1:${peer.echo.port}` });

const hostile = Buffer.concat([
  Buffer.from('\r\nOK\r\n+QSSLURC: "closed",0\r\n> \r\nRDY\r\n+QSSLRECV: 5\r\nSEND OK\r\nERROR\r\n+QIURC: "pdpdeact",1\r\nPOWERED DOWN\r\n\x1a\x1b', 'latin1'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\nCONNECT 10\r\n+QFUPL: 3,1234\r\n+QSSLURC: "recv",0,3\r\nabc', 'latin1'),
]);

describe('payloads that look like AT', () => {
  for (const mode of ['buffer', 'push'] as const) {
    test(`TLS echo (${mode}): every byte value and AT look-alikes, in 1-byte, 0-byte and joined sends`, async () => {
      const { modem } = await rig({ hosts: hosts() });
      const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: mode });
      await s.connect(['tls.test', 443]);
      expect(await s.send(Buffer.alloc(0))).toBe(0);
      expect(await s.send('')).toBe(0);
      for (const b of hostile.subarray(0, 40)) await s.send(Buffer.from([b]));
      await s.send(hostile.subarray(40));
      const got = await within(s.read(hostile.length), 10_000);
      expect(got === 'HUNG' ? 'HUNG' : got.toString('hex')).toBe(hostile.toString('hex'));
      expect(modem.state).toBe('connected.ready');
      await s.close();
    });
  }

  test('TCP echo: the hostile payload 200 times over, read back by readline-free read()', async () => {
    const peer = await tcpServer((x) => x.pipe(x));
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const data = Buffer.concat(Array.from({ length: 200 }, () => hostile));
    const [, got] = await Promise.all([s.sendall(data), s.read(data.length)]);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await s.close();
  });

  test('push mode: 1 MiB from the peer arrives whole', async () => {
    const data = randomBytes(1024 * 1024);
    const { modem } = await rig({ hosts: hosts() });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'push' });
    await s.connect(['tls.test', 443]);
    const [, got] = await Promise.all([s.sendall(data), within(s.read(data.length), 20_000)]);
    expect(got === 'HUNG' ? 'HUNG' : createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await s.close();
  }, 30_000);
});

describe('peer closes', () => {
  test('the peer closes right after the TLS handshake (module-side close): read() returns empty, recv empty, no hang', async () => {
    const { modem, module } = await rig({ hosts: hosts() });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    module.faults.peerClose(s.connection!.id);
    const r = await within(s.read(), 5000);
    expect(r === 'HUNG' ? 'HUNG' : r.length).toBe(0);
    expect((await s.recv(10)).length).toBe(0);
    await s.close();
  });

  test('TCP peer sends 50 KB and closes at once: everything is read, then EOF', async () => {
    const payload = randomBytes(50_000);
    const peer = await tcpServer((x) => x.end(payload));
    const { modem } = await rig({ hosts: { 'bye.test': `127.0.0.1:${peer.port}` } });
    const s = modem.usocket.socket();
    await s.connect(['bye.test', 1]);
    const got = await within(s.read(), 10_000);
    expect(got === 'HUNG' ? 'HUNG' : got.length).toBe(payload.length);
    await s.close();
  });
});

describe('more than twelve sockets', () => {
  test('13 TCP sockets at once: the 13th is EMFILE; after one closes, a new one opens', async () => {
    const peer = await tcpServer((x) => x.pipe(x));
    const { modem } = await rig();
    const socks = Array.from({ length: 13 }, () => modem.usocket.socket());
    const results = await Promise.all(socks.map((s) => settle(s.connect(['127.0.0.1', peer.port]))));
    const failed = results.filter((r) => !r.ok);
    expect(failed.length).toBe(1);
    expect(isOSError((failed[0] as { error: unknown }).error, errno.EMFILE)).toBe(true);
    const ok = socks.filter((_, i) => results[i]!.ok);
    await ok[0]!.close();
    const again = modem.usocket.socket();
    await again.connect(['127.0.0.1', peer.port]);
    await again.send('x');
    expect((await again.read(1)).toString()).toBe('x');
    for (const s of [...ok.slice(1), again]) await s.close();
  });

  test('40 sockets opened and closed in waves of 12, all of them echo', async () => {
    const peer = await tcpServer((x) => x.pipe(x));
    const { modem } = await rig({ hosts: hosts() });
    for (let wave = 0; wave < 3; wave++) {
      const socks = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const s = i % 2 ? await modem.ussl.wrap_socket(modem.usocket.socket()) : modem.usocket.socket();
        await s.connect(i % 2 ? ['tls.test', 443] : ['127.0.0.1', peer.port]);
        return s;
      }));
      await Promise.all(socks.map(async (s, i) => {
        await s.send(`hello ${wave}.${i}\n`);
        expect((await s.readline()).toString()).toBe(`hello ${wave}.${i}\n`);
        await s.close();
      }));
    }
  }, 30_000);
});

describe('readline', () => {
  test('lines split across chunks and with CRLF come back whole, the rest at EOF', async () => {
    const peer = await tcpServer((x) => {
      const parts = ['ab', 'c\r', '\nde', '\n', 'f\r\ng', 'h'];
      parts.forEach((p, i) => setTimeout(() => (i === parts.length - 1 ? x.end(p) : x.write(p)), 60 * (i + 1)));
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const lines: string[] = [];
    for (;;) {
      const l = (await s.readline()).toString();
      if (l === '') break;
      lines.push(l);
    }
    expect(lines).toEqual(['abc\r\n', 'de\n', 'f\r\n', 'gh']);
    await s.close();
  });
});
