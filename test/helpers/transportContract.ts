/**
 * The contract every {@link Transport} keeps (see src/transport/Transport.ts), as one vitest suite that runs over
 * any transport and a peer at the other end of its link.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isQuectelError } from '../../src/errors.js';
import type { Transport, TransportCloseEvent } from '../../src/transport/Transport.js';

/** The far end of the transport's link, driven by the test. */
export interface TransportPeer {
  /** Sends bytes to the transport under test; resolves once the peer's side took them. */
  write(data: Uint8Array): Promise<void>;
  /** Starts delivering the bytes the transport sent; until called, the peer does not read (the link backs up). */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Makes the far end vanish as a pulled cable or a dead server would (kill socat, destroy the socket). */
  vanish(): Promise<void>;
}

/** A freshly opened transport, its peer, and the teardown of both. */
export interface TransportPair {
  readonly transport: Transport;
  readonly peer: TransportPeer;
  /** Releases everything; runs after each test whatever state the pair is in, so it must tolerate any. */
  dispose(): Promise<void>;
}

const MIB = 1024 * 1024;

/**
 * Declares the transport contract suite for `name`; `makePair` is called before each test.
 * Each test waits at most `timeoutMs` for bytes or events. Default: 10000.
 */
export function describeTransportContract(name: string, makePair: () => Promise<TransportPair>, timeoutMs = 10_000): void {
  describe(`${name} keeps the transport contract`, () => {
    let pair: TransportPair;
    let closeEvents: TransportCloseEvent[];

    beforeEach(async () => {
      pair = await makePair();
      closeEvents = [];
      pair.transport.on('close', (event) => closeEvents.push(event));
    });
    afterEach(async () => {
      await pair.transport.close();
      await pair.dispose();
    });

    test('is open after opening and names its URL', () => {
      expect(pair.transport.isOpen).toBe(true);
      expect(pair.transport.url).not.toBe('');
    });

    test('carries 1 MiB from transport to peer intact, in the order of writes issued without waiting', async () => {
      const payload = randomBytes(MIB);
      const received = collect(pair.peer.onData.bind(pair.peer));
      const writes: Promise<void>[] = [];
      for (const piece of randomPieces(payload)) writes.push(pair.transport.write(piece));
      await Promise.all(writes);
      await received.until(payload.length, timeoutMs);
      expect(received.total()).toBe(payload.length);
      expect(sha256(received.chunks)).toBe(sha256([payload]));
    });

    test('carries 1 MiB from peer to transport intact, as non-empty Uint8Array chunks the listener owns', async () => {
      const payload = randomBytes(MIB);
      const received = collect((listener) => pair.transport.on('data', listener));
      for (const piece of randomPieces(payload)) await pair.peer.write(piece);
      await received.until(payload.length, timeoutMs);
      // Hashed only now: a transport handing out views of a reused pool would have had earlier chunks overwritten.
      expect(sha256(received.chunks)).toBe(sha256([payload]));
      for (const chunk of received.chunks) {
        expect(chunk).toBeInstanceOf(Uint8Array);
        expect(chunk.byteLength).toBeGreaterThan(0);
        expect(chunk.byteOffset).toBe(0);
        expect(chunk.buffer.byteLength).toBe(chunk.byteLength);
      }
    });

    test('carries 1 MiB each way at the same time', async () => {
      const toPeer = randomBytes(MIB);
      const toTransport = randomBytes(MIB);
      const atPeer = collect(pair.peer.onData.bind(pair.peer));
      const atTransport = collect((listener) => pair.transport.on('data', listener));
      await Promise.all([
        Promise.all(randomPieces(toPeer).map((piece) => pair.transport.write(piece))),
        (async () => {
          for (const piece of randomPieces(toTransport)) await pair.peer.write(piece);
        })(),
        atPeer.until(toPeer.length, timeoutMs),
        atTransport.until(toTransport.length, timeoutMs),
      ]);
      expect(sha256(atPeer.chunks)).toBe(sha256([toPeer]));
      expect(sha256(atTransport.chunks)).toBe(sha256([toTransport]));
    });

    test('close() is idempotent and emits close "closed" exactly once', async () => {
      await Promise.all([pair.transport.close(), pair.transport.close()]);
      await pair.transport.close();
      await settle();
      expect(closeEvents).toEqual([{ reason: 'closed' }]);
      expect(pair.transport.isOpen).toBe(false);
    });

    test('write after close rejects with TRANSPORT_CLOSED', async () => {
      await pair.transport.close();
      const error = await pair.transport.write(Uint8Array.of(0x41, 0x54, 0x0d)).then(() => undefined, (e: unknown) => e);
      expect(isQuectelError(error, 'TRANSPORT_CLOSED')).toBe(true);
    });

    test('close() settles a write still in flight (resolved, or rejected with TRANSPORT_CLOSED)', async () => {
      // The peer does not read, so a large write backs up in the link and is still pending at close().
      const pending = pair.transport.write(new Uint8Array(16 * MIB)).then(() => 'resolved', (e: unknown) => e);
      await settle();
      await pair.transport.close();
      const outcome = await within(pending, timeoutMs, 'the in-flight write to settle');
      if (outcome !== 'resolved') expect(isQuectelError(outcome, 'TRANSPORT_CLOSED')).toBe(true);
      expect(closeEvents).toEqual([{ reason: 'closed' }]);
    });

    test('the peer vanishing emits close "disconnected" once; later writes reject, close() still resolves', async () => {
      const closed = new Promise<void>((resolve) => pair.transport.once('close', () => resolve()));
      // Let the link go idle first, as a cable pulled between two AT exchanges would find it.
      await pair.transport.write(Uint8Array.of(0x41, 0x54, 0x0d));
      await settle();
      await pair.peer.vanish();
      await within(closed, timeoutMs, 'the close event after the peer vanished');
      expect(closeEvents).toEqual([{ reason: 'disconnected' }]);
      expect(pair.transport.isOpen).toBe(false);
      const error = await pair.transport.write(Uint8Array.of(0x41)).then(() => undefined, (e: unknown) => e);
      expect(isQuectelError(error, 'TRANSPORT_CLOSED')).toBe(true);
      await pair.transport.close();
      await settle();
      expect(closeEvents).toHaveLength(1);
    });
  });
}

/** Collects chunks from a data source and waits for a byte count. */
function collect(subscribe: (listener: (chunk: Uint8Array) => void) => void) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let waiter: (() => void) | undefined;
  let wanted = Infinity;
  subscribe((chunk) => {
    chunks.push(chunk);
    total += chunk.byteLength;
    if (total >= wanted) waiter?.();
  });
  return {
    chunks,
    total: () => total,
    until(bytes: number, timeoutMs: number): Promise<void> {
      wanted = bytes;
      const reached = total >= bytes ? Promise.resolve() : new Promise<void>((resolve) => (waiter = resolve));
      // The count is read when the wait times out, not now (it once said "got 0" for every stall).
      return within(reached, timeoutMs, () => `${bytes} bytes (got ${total} so far)`).then(() => {
        if (total > bytes) throw new Error(`received ${total} bytes, more than the ${bytes} sent`);
      });
    },
  };
}

/** Splits `payload` into pieces of 1 byte to 64 KiB, so writes of many sizes are exercised. */
function randomPieces(payload: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < payload.length; ) {
    const size = Math.min(payload.length - at, 1 + Math.floor(Math.random() ** 3 * 64 * 1024));
    pieces.push(payload.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

function sha256(chunks: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Lets pending I/O callbacks and late events run. */
function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves like `promise`, or rejects naming `what` (a text, or a function asked at the timeout) after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`));
    }, timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
