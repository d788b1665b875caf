/**
 * Node streams over module connections (sock.stream(), connectTls) and socket close: what a stream or socket does
 * after the application let go of it.
 */
import { randomBytes } from 'node:crypto';
import { request, createServer as createHttpServer } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import { rig, runCleanups, sleep, tcpServer } from '../attack/harness.js';
import type { Socket } from '../../src/ussl/Socket.js';
import type { SocketStream } from '../../src/ussl/SocketStream.js';

afterEach(runCleanups);

test('a destroyed stream with an idle timeout emits no \'timeout\' afterwards (no timer re-armed after destroy)', async () => {
  const peer = await tcpServer((s) => s.write('hi'));
  const { modem } = await rig();
  const s = modem.usocket.socket();
  await s.connect(['127.0.0.1', peer.port]);
  const stream = s.stream() as SocketStream;
  stream.setTimeout(400);
  let afterClose = 0;
  let closed = false;
  stream.on('timeout', () => closed && afterClose++);
  stream.on('data', () => {});
  await sleep(100);
  stream.destroy();
  await new Promise((r) => stream.once('close', r));
  closed = true;
  await sleep(800);
  // net.Socket: destroy() clears the idle timer for good. Here the connection's 'end', heard after _destroy cleared
  // the timer, calls pull() → touch(), which arms it again: 'timeout' fires on a closed stream, and the timer keeps
  // the process alive for the whole idle period.
  expect(afterClose).toBe(0);
});

test('http.request({ timeout }) over sock.stream(): once the response is done, no timeout fires on the socket', async () => {
  const server = createHttpServer((_req, res) => res.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', (server.address() as { port: number }).port]);
    const stream = s.stream();
    let late = 0;
    let done = false;
    stream.on('timeout', () => done && late++);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', path: '/', timeout: 500, createConnection: () => stream as never }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('hello');
    stream.destroy();
    await new Promise((r) => (stream.destroyed && stream.closed ? r(undefined) : stream.once('close', r)));
    done = true;
    await sleep(900);
    expect(late).toBe(0);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** A socket whose connection holds a full buffer and whose module holds much more (the peer sent 1 MB). */
async function busySocket(withStream: boolean) {
  const blob = randomBytes(1_000_000);
  const peer = await tcpServer((x) => x.write(blob));
  const r = await rig({ baud: 460_800 });
  const s: Socket = r.modem.usocket.socket();
  await s.connect(['127.0.0.1', peer.port]);
  const stream = withStream ? s.stream() : undefined;
  stream?.pause();
  // Let the connection fill its 64 KiB bound, then take 40 KiB so that draining the module resumes.
  for (let i = 0; i < 200 && (s.connection?.readableLength ?? 0) < 60_000; i++) await sleep(50);
  let taken = 0;
  while (taken < 40_000) {
    if (stream) {
      const c = stream.read() as Buffer | null;
      if (c) taken += c.length;
      else await sleep(5);
    } else taken += (await s.recv(40_000 - taken)).length;
  }
  await sleep(20);
  r.commands.length = 0;
  return { ...r, s, stream };
}

test('stream.destroy() closes the connection at once (…,0): it does not first read what nobody will ever read', async () => {
  const { stream, commands } = await busySocket(true);
  const t0 = Date.now();
  stream!.destroy();
  await new Promise((r) => stream!.once('close', r));
  await sleep(50);
  const ms = Date.now() - t0;
  const reads = commands.filter((c) => c.startsWith('AT+QIRD')).length;
  // Observed: ~44 AT+QIRD (64 KiB read and thrown away) and 1.5 s at 460800 baud (6 s at 115200) before AT+QICLOSE=0,0.
  expect({ reads: reads <= 1, closedWith: commands.find((c) => c.startsWith('AT+QICLOSE')) }).toEqual({ reads: true, closedWith: 'AT+QICLOSE=0,0' });
  expect(ms).toBeLessThan(500);
}, 20_000);

test('sock.close() does not read and discard the module\'s buffer before closing', async () => {
  const { s, commands } = await busySocket(false);
  const t0 = Date.now();
  await s.close();
  const ms = Date.now() - t0;
  const reads = commands.filter((c) => c.startsWith('AT+QIRD')).length;
  // Observed: ~30 AT+QIRD (45 KB nobody can read any more: the socket is closed) and ~1 s before AT+QICLOSE=0.
  expect(reads).toBeLessThanOrEqual(1);
  expect(ms).toBeLessThan(500);
}, 20_000);
