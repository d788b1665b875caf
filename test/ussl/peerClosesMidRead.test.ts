/**
 * The peer sends its last bytes and closes while they are still on their way: some in the peer's kernel buffers,
 * some in the module's receive buffer (paused at its bound), some in the host's. Whatever the reader's pace, every
 * byte arrives, in order, then the end, once, and no error. A first version handed a stream its end from inside the
 * read that took the last bytes, so the stream ended before it had them (`stream.push() after EOF`, and `https`
 * reported `aborted`). Checked through the three ways a program reads: a Node stream (`connectTls`), `https` over
 * `createConnection`, and usocket's `recv`, each at random paces (fast-check).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpsServer, request } from 'node:https';
import { createServer as createTlsServer, type Server } from 'node:tls';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { connectTls } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { rig, runCleanups } from '../attack/harness.js';

afterEach(runCleanups);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pki: Pki;
let server: Server;
let port: number;
/** What the next connection is sent before the server ends it. */
let next: Buffer = Buffer.alloc(0);
beforeAll(async () => {
  pki = await makePki();
  server = createTlsServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (s) => {
    s.on('error', () => {});
    s.end(next);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A reader's pace: how long it pauses after each chunk, cycling through the list (0: it reads at once). */
const pace = fc.array(fc.constantFrom(0, 0, 1, 3, 8), { minLength: 1, maxLength: 6 });
const size = fc.integer({ min: 1, max: 300 * 1024 });

test('a Node stream (connectTls) at any pace gets every byte, then one end, no error', async () => {
  const { modem } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${port}` } });
  await fc.assert(fc.asyncProperty(size, pace, async (n, pauses) => {
    next = randomBytes(n);
    const want = sha(next);
    const stream = connectTls(modem, { host: 'myssl.test', port: 443, cadata: pki.ca.cert });
    const got = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      let i = 0;
      let ends = 0;
      stream.on('data', (c: Buffer) => {
        parts.push(c);
        const ms = pauses[i++ % pauses.length]!;
        if (ms > 0) {
          stream.pause();
          setTimeout(() => stream.resume(), ms);
        }
      });
      stream.on('end', () => ends++);
      stream.on('error', reject);
      stream.on('close', () => (ends === 1 ? resolve(Buffer.concat(parts)) : reject(new Error(`${ends} ends`))));
    });
    expect(got.length).toBe(n);
    expect(sha(got)).toBe(want);
  }), { numRuns: 12 });
}, 120_000);

test('usocket recv at any pace and size gets every byte, then b"" for good', async () => {
  const { modem } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${port}` } });
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 128 * 1024 }), pace, fc.integer({ min: 256, max: 4096 }), async (n, pauses, bufsize) => {
    next = randomBytes(n);
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: 'myssl.test', cadata: pki.ca.cert });
    await s.connect(['myssl.test', 443]);
    s.settimeout(20);
    const parts: Uint8Array[] = [];
    for (let i = 0; ; i++) {
      const chunk = await s.recv(bufsize);
      if (chunk.length === 0) break;
      parts.push(chunk);
      const ms = pauses[i % pauses.length]!;
      if (ms > 0) await sleep(ms);
    }
    expect((await s.recv(bufsize)).length).toBe(0);
    const got = Buffer.concat(parts);
    expect(got.length).toBe(n);
    expect(sha(got)).toBe(sha(next));
    await s.close();
  }), { numRuns: 12 });
}, 180_000);

test('https over createConnection: a 1 MiB body whose server closes the idle connection mid-transfer arrives whole', async () => {
  const blob = randomBytes(1024 * 1024);
  const web = createHttpsServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (_req, res) => {
    res.writeHead(200, { 'content-length': blob.length });
    res.end(blob);
  });
  web.keepAliveTimeout = 50; // closes 50 ms after the body left it, long before a slow reader has it
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  try {
    const webPort = (web.address() as { port: number }).port;
    const { modem } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${webPort}` } });
    for (const delay of [0, 2, 5]) {
      const got = await new Promise<Buffer>((resolve, reject) => {
        const req = request({ host: 'myssl.test', port: 443, path: '/',
          createConnection: () => connectTls(modem, { host: 'myssl.test', port: 443, cadata: pki.ca.cert }) }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            parts.push(c);
            if (delay > 0) {
              res.pause();
              setTimeout(() => res.resume(), delay);
            }
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(sha(got), `reader pausing ${delay} ms per chunk`).toBe(sha(blob));
    }
  } finally {
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
  }
}, 120_000);
