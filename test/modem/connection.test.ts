/**
 * A connection against a scripted module (a stand-in ServiceHost): random writes, peer data, `SEND FAIL`s, and the
 * peer closing at any point, including in the same read as a send's `SEND OK` (the URC then reaches the connection
 * before the send's promise resumes it). Whatever the order: every byte written reaches the peer once and in order
 * up to the close, `flush` resolves exactly when all of it was taken, and the reader gets every byte the peer sent,
 * then the end.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { SendOptions } from '../../src/at/AtClient.js';
import type { AtReply } from '../../src/at/AtCommand.js';
import { QuectelError } from '../../src/errors.js';
import { Connection } from '../../src/modem/services/Connection.js';
import type { ServiceHost } from '../../src/modem/services/ServiceHost.js';

/** What the module does, in order, driven by the commands the connection sends. */
interface Plan {
  readonly writes: readonly Buffer[];
  readonly incoming: readonly Buffer[];
  /** Per send command: how many SEND FAILs before it is taken. */
  readonly sendFails: readonly number[];
  /** The peer closes after this many send commands were taken (or never). */
  readonly closeAfterSends: number | undefined;
  /** Deliver the close URC in the same tick as the SEND OK that precedes it. */
  readonly closeGlued: boolean;
}

class ScriptedHost extends EventEmitter implements Partial<ServiceHost> {
  readonly peerGot: Buffer[] = [];
  private pending: Buffer[];
  private sends = 0;
  private fails: number[];
  closed = false;

  constructor(private readonly plan: Plan) {
    super();
    this.pending = [...plan.incoming];
    this.fails = [...plan.sendFails];
  }

  /** The peer's data arrives: a recv URC. */
  arrive(): void {
    if (this.pending.length > 0) this.emit('urc', '+QSSLURC: "recv",0', undefined);
  }

  send(command: string, options: SendOptions = {}): Promise<AtReply> {
    const ok = (data: Uint8Array = Buffer.alloc(0), final = 'OK'): Promise<AtReply> => Promise.resolve({ lines: [], final, data });
    if (command.startsWith('AT+QSSLRECV=0,')) {
      const all = Buffer.concat(this.pending);
      const take = all.subarray(0, 1500);
      this.pending = all.length > 1500 ? [all.subarray(1500)] : [];
      return ok(take);
    }
    if (command.startsWith('AT+QSSLSEND=0,')) {
      if (this.closed) return Promise.reject(new QuectelError('AT_ERROR', 'closed'));
      if ((this.fails[0] ?? 0) > 0) {
        this.fails[0]!--;
        return Promise.reject(new QuectelError('AT_SEND_FAIL', 'full'));
      }
      this.fails.shift();
      this.peerGot.push(Buffer.from(options.payload!));
      this.sends++;
      const reply = ok(Buffer.alloc(0), 'SEND OK');
      if (this.plan.closeAfterSends === this.sends) {
        this.closed = true;
        if (this.plan.closeGlued) this.emit('urc', '+QSSLURC: "closed",0', undefined); // before the send resumes
        else setImmediate(() => this.emit('urc', '+QSSLURC: "closed",0', undefined));
      }
      return reply;
    }
    if (command.startsWith('AT+QSSLCLOSE=0')) return ok();
    return Promise.reject(new Error(`unexpected ${command}`));
  }
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  writes: fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((b) => Buffer.from(b)), { maxLength: 6 }),
  incoming: fc.array(fc.uint8Array({ minLength: 1, maxLength: 4000 }).map((b) => Buffer.from(b)), { maxLength: 4 }),
  sendFails: fc.array(fc.nat(3), { maxLength: 12 }),
  closeAfterSends: fc.option(fc.nat(8), { nil: undefined }),
  closeGlued: fc.boolean(),
});

async function run(plan: Plan): Promise<void> {
  const host = new ScriptedHost(plan);
  // Short retry waits: the paced gap is kept between sends, and the bound below is on time.
  const conn = new Connection(host as unknown as ServiceHost, 0, 'ssl', 'buffer', () => undefined, { sendFailRetries: 10, pollMs: 5, sendRetry: { firstMs: 1, maxMs: 8 } });
  // What ConnectionService does: route the URCs of id 0 to the connection.
  host.on('urc', (line: string) => (line.includes('"closed"') ? conn.onClosedUrc() : conn.onRecvUrc()));
  const received: Buffer[] = [];
  conn.on('readable', () => received.push(conn.read()));
  const ended = new Promise<void>((r) => conn.once('end', r));
  conn.opened();
  conn.want(true);
  host.arrive();
  if (plan.closeAfterSends === 0) {
    host.closed = true;
    host.emit('urc', '+QSSLURC: "closed",0', undefined);
  }
  const accepted: Buffer[] = [];
  for (const w of plan.writes) {
    try {
      conn.enqueue(w);
      accepted.push(w);
    } catch {
      break; // the peer had closed already: the write is refused at once
    }
  }
  const flushed = await conn.flush().then(() => true, () => false);
  const written = Buffer.concat(accepted);
  const got = Buffer.concat(host.peerGot);
  // What reached the peer is a prefix of what was accepted, each byte once; flush says true only for all of it.
  expect(written.subarray(0, got.length).equals(got)).toBe(true);
  expect(flushed).toBe(got.length === written.length);
  if (!host.closed) {
    // The peer closes now if the plan had it close after more sends than there were.
    host.closed = true;
    host.emit('urc', '+QSSLURC: "closed",0', undefined);
  }
  await ended;
  received.push(conn.read());
  expect(Buffer.concat(received).equals(Buffer.concat(plan.incoming))).toBe(true);
  await conn.close();
}

test('a close URC glued behind SEND OK does not fail data the module took', async () => {
  await run({ writes: [Buffer.from('GET / HTTP/1.0\r\n\r\n')], incoming: [Buffer.from('HTTP/1.0 200 OK\r\n')], sendFails: [], closeAfterSends: 1, closeGlued: true });
});

test('random writes, peer data, SEND FAILs and closes: bytes once and in order, flush true exactly when all went', async () => {
  const bounded = (plan: Plan) => Promise.race([run(plan), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 2000).unref())]);
  await fc.assert(fc.asyncProperty(planArb, bounded), { numRuns: 300 });
});
