/** Attacks on Socket semantics: concurrent readers, readline under timeouts, stream backpressure, wrap_socket. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { cleanups, rig, runCleanups, sleep, tcpServer, within } from './harness.js';

afterEach(runCleanups);

describe('two readers on one socket', () => {
  test('two concurrent recv calls: the second must not report EOF (empty bytes) while the peer is still open', async () => {
    const peer = await tcpServer((s) => setTimeout(() => s.write('hello'), 100));
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const a = s.recv(100);
    const b = s.recv(100);
    const [ra] = await Promise.all([a]);
    expect(ra.toString()).toBe('hello');
    // b is still waiting for data; it must not have resolved with b'' (EOF) although the peer never closed.
    const rb = await within(b, 300);
    expect(rb === 'HUNG' || (Buffer.isBuffer(rb) && rb.length > 0)).toBe(true);
    await s.close();
  });

  test('read(n) with a concurrent recv returns short of n although the peer did not close', async () => {
    const peer = await tcpServer((s) => {
      setTimeout(() => s.write('abcd'), 100);
      setTimeout(() => s.write('efgh'), 400);
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const other = s.recv(100);
    const got = s.read(4);
    const [r1, r2] = await Promise.all([within(got, 2000), other]);
    // read(4) documents "size bytes, fewer only at the end of the stream": the peer never closed.
    expect(r1 === 'HUNG' ? 'HUNG' : r1.length).toBe(4);
    expect(r2.length).toBeGreaterThan(0);
    await s.close();
  });
});

describe('readline', () => {
  test('a timeout in the middle of a line must not lose the bytes already read', async () => {
    const peer = await tcpServer((s) => {
      s.write('partial');
      setTimeout(() => s.write(' line\n'), 800);
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    s.settimeout(0.4);
    const first = await s.readline().then((b) => b.toString(), (e: unknown) => e);
    // Either readline returns what it has ('partial'), or it raises and the bytes stay readable.
    let rest = '';
    if (isOSError(first, errno.ETIMEDOUT)) {
      s.settimeout(3);
      rest = (await s.readline()).toString();
      expect(rest).toBe('partial line\n');
    } else {
      expect(first).toBe('partial');
    }
    await s.close();
  });

  test('non-blocking readline (EAGAIN mid-line) must not lose the bytes already read', async () => {
    const peer = await tcpServer((s) => {
      s.write('abc');
      setTimeout(() => s.write('def\n'), 500);
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    await sleep(200); // 'abc' is buffered
    s.setblocking(false);
    const first = await s.readline().then((b) => b.toString(), (e: unknown) => e);
    s.setblocking(true);
    await sleep(500);
    const rest = (await s.readline()).toString();
    expect(typeof first === 'string' ? first + rest : rest).toBe('abcdef\n');
    await s.close();
  });
});

describe('stream() backpressure', () => {
  test('a stream nobody reads must not pull the whole peer output into memory', async () => {
    const big = randomBytes(2 * 1024 * 1024);
    const peer = await tcpServer((s) => s.end(big));
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const stream = s.stream();
    stream.pause();
    await sleep(3000);
    // The connection bound is 64 KiB, the stream's highWaterMark 16 KiB: far less than 2 MiB may be in memory.
    const held = stream.readableLength + (s.connection?.readableLength ?? 0);
    expect(held).toBeLessThan(256 * 1024);
    stream.destroy();
  }, 20_000);

  test('a stream nobody reads closes once its writes went out and the peer closed (the end is delivered unread)', async () => {
    // The graceful twin of the test below (which a loaded machine turns into this one): every byte is taken, then
    // the peer closes. No one reads the stream, so its 'end' must not wait for a reader.
    const total = 256 * 1024;
    const peer = await tcpServer((x) => {
      let got = 0;
      x.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= total) x.end();
      });
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const stream = s.stream();
    stream.on('error', () => {});
    const closed = new Promise<void>((r) => stream.on('close', () => r()));
    stream.end(Buffer.alloc(total, 0x42));
    expect(await within(closed, 8000)).not.toBe('HUNG');
  }, 20_000);

  test('a stream writer blocked on drain is released when the peer closes (no hang)', async () => {
    const peer = await tcpServer((s) => {
      s.pause();
      setTimeout(() => s.destroy(), 300);
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const stream = s.stream();
    stream.on('error', () => {});
    const closed = new Promise<void>((r) => stream.on('close', () => r()));
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 64; i++) stream.write(chunk);
    stream.end();
    expect(await within(closed, 8000)).not.toBe('HUNG');
  }, 20_000);
});

describe('wrap_socket', () => {
  test('the timeout set on the socket survives wrap_socket (MicroPython keeps it on the wrapped socket)', async () => {
    const { modem } = await rig();
    const s = modem.usocket.socket();
    s.settimeout(5);
    const t = await modem.ussl.wrap_socket(s);
    expect(t.gettimeout()).toBe(5);
  });

  test('a non-blocking socket stays non-blocking after wrap_socket', async () => {
    const { modem } = await rig();
    const s = modem.usocket.socket();
    s.setblocking(false);
    const t = await modem.ussl.wrap_socket(s);
    expect(t.gettimeout()).toBe(0);
  });
});
void cleanups;

describe('stream() end', () => {
  test('end() after a request does not lose the response that comes after it (the module cannot half-close)', async () => {
    const response = randomBytes(200 * 1024);
    const peer = await tcpServer((x) => {
      x.once('data', () => setTimeout(() => x.end(response), 200)); // answers after the client's end()
    });
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const stream = s.stream();
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    const ended = new Promise<void>((r) => stream.on('end', () => r()));
    stream.end('GET\n');
    expect(await within(ended, 10_000)).not.toBe('HUNG');
    expect(Buffer.concat(parts).equals(response)).toBe(true);
  }, 20_000);
});
