/** Peers for the attack4 tests: a TLS server that streams chosen bytes, as fast as the connection takes them. */
import type { Server, Socket } from 'node:net';
import tls from 'node:tls';
import { cleanups } from '../attack/harness.js';

export interface StreamPeer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  readonly sockets: Set<tls.TLSSocket>;
}

/**
 * On each connection: writes `pattern` over and over (until the client goes, or `limit` bytes), respecting
 * backpressure. Closed at cleanup.
 */
export async function streamPeer(cert: string, key: string, pattern: Buffer, limit = Number.POSITIVE_INFINITY, everyMs = 0): Promise<StreamPeer> {
  const sockets = new Set<tls.TLSSocket>();
  let accepted = 0;
  const server = tls.createServer({ cert, key }, (s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    let sent = 0;
    if (everyMs > 0) {
      // Paced: one pattern every `everyMs`, so a reader keeps up and the connection stays in push mode.
      const t = setInterval(() => {
        if (s.destroyed || sent >= limit) return void clearInterval(t);
        const part = pattern.subarray(0, Math.min(pattern.length, limit - sent));
        sent += part.length;
        s.write(part);
      }, everyMs);
      s.on('close', () => clearInterval(t));
      return;
    }
    const pump = (): void => {
      while (!s.destroyed && sent < limit) {
        const part = pattern.subarray(0, Math.min(pattern.length, limit - sent));
        sent += part.length;
        if (!s.write(part)) return void s.once('drain', pump);
      }
    };
    pump();
  });
  await listenForTest(server);
  return { port: (server.address() as { port: number }).port, get accepted() { return accepted; }, sockets };
}

/**
 * A TLS peer that takes whatever is sent (counted in `uploaded`) and, `delayMs` after each connection, writes `down`
 * bytes of the source stream as fast as the connection takes them.
 */
export async function twoWayPeer(cert: string, key: string, down: number, delayMs: number): Promise<{ port: number; uploaded: () => number }> {
  const { sourceBytes } = await import('../helpers/tlsPeers.js');
  let uploaded = 0;
  const server = tls.createServer({ cert, key }, (s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => (uploaded += d.length));
    const t = setTimeout(() => {
      for (let off = 0; off < down; off += 16_384) s.write(sourceBytes(off, Math.min(16_384, down - off)));
    }, delayMs);
    s.on('close', () => clearTimeout(t));
  });
  await listenForTest(server);
  return { port: (server.address() as { port: number }).port, uploaded: () => uploaded };
}

/** Listens on a free loopback port; the test's cleanup destroys its open sockets and closes it. */
async function listenForTest(server: Server): Promise<void> {
  const raw = new Set<Socket>();
  server.on('connection', (r: Socket) => {
    raw.add(r);
    r.once('close', () => raw.delete(r));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const r of raw) r.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
}
