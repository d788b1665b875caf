/**
 * Push mode's flow control against a scripted module, through the real engine and ConnectionService: at the rx bound
 * `AT+QISWTMD=<id>,0`, push URCs before its `OK` still appended and a `"recv"` line after it (in the same read) a
 * notification; below half the bound `AT+QSSLRECV` until 0, then `AT+QISWTMD=<id>,1`, a push URC glued behind its `OK`
 * counted as data again. The exact command order is the script's. And the fallback when the module answers `ERROR`:
 * one `'warning'`, no second try, every pushed byte kept.
 */
import { EventEmitter } from 'node:events';
import { afterEach, expect, test, vi } from 'vitest';
import type { SendOptions } from '../../src/at/AtClient.js';
import { AtClient } from '../../src/at/AtClient.js';
import type { AtReply } from '../../src/at/AtCommand.js';
import { ScriptedPort, type ScriptChunking, type ScriptStep } from '../../src/at/ScriptedPort.js';
import type { QuectelError } from '../../src/errors.js';
import type { ModemOptions, ModuleInfo } from '../../src/modem/ModemOptions.js';
import type { Connection, ConnectionTuning } from '../../src/modem/services/Connection.js';
import { ConnectionService } from '../../src/modem/services/ConnectionService.js';
import type { ServiceHost } from '../../src/modem/services/ServiceHost.js';

const BOUND = 3000;
const INFO: ModuleInfo = {
  manufacturer: 'Quectel', family: 'lte', model: 'EC25', revision: 'EC25EFAR06A06M4G', firmware: 'EC25EFAR06A06M4G', ssl: true,
  sslParams: [], cipherSuites: [],
};

/** The modem's part the services see, over an AtClient on the scripted port. */
class Host extends EventEmitter implements ServiceHost {
  readonly info = INFO;
  readonly options: ModemOptions = {};
  readonly commands: string[] = [];

  constructor(private readonly at: AtClient) {
    super();
    at.engine.on('urc', (line, data) => this.emit('urc', line, data));
  }

  send(command: string, options?: SendOptions): Promise<AtReply> {
    this.commands.push(command);
    return this.at.send(command, options);
  }

  onRestore(): () => void {
    return () => undefined;
  }
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  vi.restoreAllMocks();
});

/** Byte `i` of what the peer sends. */
const stream = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, k) => ((from + k) * 7 + 3) & 0xff));
const pushUrc = (from: number, n: number): string => `\r\n+QSSLURC: "recv",0,${n}\r\n${stream(from, n).toString('latin1')}\r\n`;
const recvReply = (from: number, n: number): string => n === 0 ? '\r\n+QSSLRECV: 0\r\n\r\nOK\r\n'
  : `\r\n+QSSLRECV: ${n}\r\n${stream(from, n).toString('latin1')}\r\n\r\nOK\r\n`;

async function open(script: ScriptStep[], chunking: ScriptChunking = 'whole', tuning: ConnectionTuning = {}):
  Promise<{ port: ScriptedPort; host: Host; conn: Connection; service: ConnectionService }> {
  const port = new ScriptedPort([
    { expect: 'ATE0\r', reply: '\r\nOK\r\n' },
    { expect: 'AT+QSSLOPEN=1,0,0,"peer.test",443,1\r', reply: '\r\nOK\r\n\r\n+QSSLOPEN: 0,0\r\n' },
    ...script,
  ], { chunking });
  let service: ConnectionService | undefined;
  const at = await AtClient.open(port, { urcDataLength: (line) => service?.pushedLength(line) });
  const host = new Host(at);
  service = new ConnectionService(host, { maxBuffered: BOUND, ...tuning });
  closers.push(() => at.close());
  await at.send('ATE0');
  const conn = await service.open({ kind: 'ssl', host: 'peer.test', port: 443, receive: 'push' });
  return { port, host, conn, service };
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const chunkings: Array<[string, ScriptChunking]> = [['whole', 'whole'], ['1-byte reads', 'bytes'], ['1-64 byte reads', { min: 1, max: 64, seed: 11 }]];

test.each(chunkings)('bound, switch to buffer mode, reads to 0, switch back: the exact command order, every byte in order (%s)', async (_n, chunking) => {
  const { port, host, conn } = await open([
    // Two pushes reach the bound.
    { emit: pushUrc(0, 1500) + pushUrc(1500, 1500) },
    // One more push was on the line before the module took the switch; after the OK, in the same read, a "recv" line
    // with a length is a notification (QICFG "recvind" form), never 1500 bytes of data.
    { expect: 'AT+QISWTMD=0,0\r', reply: pushUrc(3000, 1500) + '\r\nOK\r\n\r\n+QSSLURC: "recv",0,1500\r\n' },
    // The reader went below half the bound: reads until 0; still above half (2000 held): no switch yet.
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(4500, 1000) },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(5500, 0) },
    // Below half again: read to 0 once more, then back to push; a push glued behind the OK is data.
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(5500, 0) },
    { expect: 'AT+QISWTMD=0,1\r', reply: '\r\nOK\r\n' + pushUrc(5500, 700) },
    { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' },
  ], chunking);
  const got: Buffer[] = [];
  let most = 0;
  conn.on('readable', () => (most = Math.max(most, conn.readableLength)));
  await until(() => conn.accessMode === 'buffer' && conn.readableLength === 4500, 'the switch to buffer mode');
  expect(conn.push).toBe(false);
  expect(conn.pushPauses).toBe(1);
  got.push(conn.read(2000)); // 2500 held: above half the bound, nothing read from the module
  await new Promise((r) => setTimeout(r, 20));
  expect(host.commands.at(-1)).toBe('AT+QISWTMD=0,0');
  got.push(conn.read(1000)); // 1500: half the bound
  await until(() => port.remaining().length === 3, 'the reads to 0');
  await new Promise((r) => setTimeout(r, 20));
  expect(conn.accessMode).toBe('buffer'); // 2500 held after the reads: still above half
  got.push(conn.read(1000));
  await until(() => conn.readableLength === 2200, 'the push after the switch back');
  expect(conn.accessMode).toBe('push');
  got.push(conn.read());
  expect(Buffer.concat(got).equals(stream(0, 6200))).toBe(true);
  expect(most).toBe(4500); // the bound, and the one push that was already on its way
  expect(host.commands.filter((c) => c !== 'ATE0' && !c.startsWith('AT+QSSLOPEN'))).toEqual([
    'AT+QISWTMD=0,0', 'AT+QSSLRECV=0,1500', 'AT+QSSLRECV=0,1500', 'AT+QSSLRECV=0,1500', 'AT+QISWTMD=0,1',
  ]);
  await conn.close('abort');
  await port.done();
});

test.each(chunkings)('the module refuses AT+QISWTMD (ERROR): one warning, no second try, pushing goes on and nothing is lost (%s)', async (_n, chunking) => {
  const { port, host, conn } = await open([
    { emit: pushUrc(0, 1500) + pushUrc(1500, 1500) },
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nERROR\r\n' },
    { expect: 'AT+QIGETERROR\r', reply: '\r\n+QIGETERROR: 552,invalid parameters\r\n\r\nOK\r\n' },
    { emit: pushUrc(3000, 1500) + pushUrc(4500, 1500) + pushUrc(6000, 1500) },
    { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' },
  ], chunking);
  const warnings: QuectelError[] = [];
  conn.on('warning', (w) => warnings.push(w));
  await until(() => conn.readableLength === 7500, 'every push');
  expect(warnings.map((w) => [w.code, w.context.moduleError])).toEqual([['FLOW_CONTROL_UNAVAILABLE', 552]]);
  expect(conn.accessMode).toBe('push');
  expect(conn.read().equals(stream(0, 7500))).toBe(true);
  expect(host.commands.filter((c) => c.startsWith('AT+QISWTMD'))).toEqual(['AT+QISWTMD=0,0']);
  await conn.close('abort');
  await port.done();
});

test('a refusal nobody listens for goes to process.emitWarning; one for a connection the peer is closing (567) is no warning', async () => {
  const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  const { port, conn } = await open([
    { emit: pushUrc(0, 1500) + pushUrc(1500, 1500) },
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nERROR\r\n' },
    { expect: 'AT+QIGETERROR\r', reply: '\r\n+QIGETERROR: 552,invalid parameters\r\n\r\nOK\r\n' },
    { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' },
  ]);
  await until(() => emitted.mock.calls.length === 1, 'the process warning');
  expect(emitted.mock.calls[0]![1]).toEqual({ code: 'FLOW_CONTROL_UNAVAILABLE' });
  await conn.close('abort');
  await port.done();

  const second = await open([
    { emit: pushUrc(0, 1500) + pushUrc(1500, 1500) },
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nERROR\r\n' },
    { expect: 'AT+QIGETERROR\r', reply: '\r\n+QIGETERROR: 567,socket has been closed\r\n\r\nOK\r\n' },
    { emit: pushUrc(3000, 100) + '\r\n+QSSLURC: "closed",0\r\n' },
    { expect: 'AT+QSSLCLOSE=0\r', reply: '\r\nOK\r\n' },
  ]);
  await until(() => second.conn.peerClosed && second.conn.readableLength === 3100, 'the last push and the close');
  const ended = new Promise<void>((resolve) => second.conn.once('end', resolve));
  expect(second.conn.read().equals(stream(0, 3100))).toBe(true);
  await ended;
  await second.port.done();
  expect(emitted.mock.calls.length).toBe(1);
});

test.each(chunkings)('a send the module refuses with ERROR (the peer closed, its URC not read yet): sending stops, what the peer sent stays readable (%s)', async (_n, chunking) => {
  const { port, host, conn } = await open([
    { emit: pushUrc(0, 40) },
    { expect: 'AT+QSSLSEND=0,5\r', reply: '\r\n> ' },
    { expect: 'hello', reply: '\r\nERROR\r\n' },
    { emit: '\r\n+QSSLURC: "closed",0\r\n' },
    { expect: 'AT+QSSLCLOSE=0\r', reply: '\r\nOK\r\n' },
  ], chunking);
  const errors: Error[] = [];
  conn.on('error', (e) => errors.push(e));
  await until(() => conn.readableLength === 40, 'the pushed answer');
  conn.enqueue(Buffer.from('hello'));
  const flushed = await conn.flush().then(() => undefined, (e: unknown) => e as QuectelError);
  expect(flushed?.code).toBe('SOCKET_CLOSED');
  expect(() => conn.enqueue(Buffer.from('more'))).toThrow(expect.objectContaining({ code: 'SOCKET_CLOSED' }));
  // The peer's answer is still there, and the connection ends once the module says closed.
  expect(conn.read().equals(stream(0, 40))).toBe(true);
  await until(() => conn.state === 'closed', 'the close after the peer\'s');
  await port.done();
  expect(errors).toEqual([]);
  expect(host.commands.at(-1)).toBe('AT+QSSLCLOSE=0');
});

test.each(chunkings)('the send buffer full through every retry fails the connection: never a silent success (%s)', async (_n, chunking) => {
  const refused = (): ScriptStep[] => [{ expect: 'AT+QSSLSEND=0,5\r', reply: '\r\n> ' }, { expect: 'hello', reply: '\r\nSEND FAIL\r\n' }];
  const { conn } = await open([...refused(), ...refused(), ...refused(), { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' }], chunking,
    { sendFailRetries: 2, sendRetry: { firstMs: 1, maxMs: 2 } });
  const errors: Error[] = [];
  conn.on('error', (e) => errors.push(e));
  conn.enqueue(Buffer.from('hello'));
  const flushed = await conn.flush().then(() => 'flushed', (e: unknown) => (e as QuectelError).code);
  expect(flushed).toBe('SOCKET_CLOSED');
  await until(() => conn.state === 'closed', 'the close');
  expect(errors.map((e) => (e as QuectelError).code)).toEqual(['SOCKET_CLOSED']);
});

test.each(chunkings)("an old session's URCs printed after its close's OK never reach the id's next connection (%s)", async (_n, chunking) => {
  const hostile = Buffer.from('\r\nRDY\r\n+QSSLURC: "closed",0\r\n', 'latin1');
  const oldPush = `\r\n+QSSLURC: "recv",0,${hostile.length}\r\n${hostile.toString('latin1')}\r\n`;
  const { port, service, conn } = await open([
    // The application closes the push connection; the module prints a push it held after the close's OK.
    { expect: 'AT+QSSLCLOSE=0\r', reply: '\r\nOK\r\n' + oldPush },
    // A buffer-mode open on the same id: another held push and the old session's close come before its result.
    { expect: 'AT+QSSLOPEN=1,0,0,"peer.test",443,0\r', reply: '\r\nOK\r\n' + oldPush + '\r\n+QSSLURC: "closed",0\r\n\r\n+QSSLOPEN: 0,0\r\n' },
    { emit: '\r\n+QSSLURC: "recv",0\r\n' },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(0, 30) },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(30, 0) },
  ], chunking);
  await conn.close();
  const next = await service.open({ kind: 'ssl', host: 'peer.test', port: 443 });
  await until(() => next.readableLength === 30, "the new session's bytes");
  expect(next.read().equals(stream(0, 30))).toBe(true);
  expect(next.peerClosed).toBe(false);
  expect(next.state).toBe('open');
  await until(() => port.remaining().length === 0, 'the script');
});

test.each(chunkings)('the peer closes while push mode is being resumed: back to buffer mode, everything the module held is read, then EOF (%s)', async (_n, chunking) => {
  const { conn } = await open([
    { emit: pushUrc(0, 1500) + pushUrc(1500, 1500) },
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nOK\r\n' },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(3000, 0) },
    // The switch back: the peer sent more and closed while it ran; both URCs come before its OK.
    { expect: 'AT+QISWTMD=0,1\r', reply: '\r\n+QSSLURC: "recv",0\r\n\r\n+QSSLURC: "closed",0\r\n\r\nOK\r\n' },
    // The module would push what it holds only while the id lives: the library goes back to buffer mode and reads it.
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nOK\r\n' },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(3000, 1500) },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(4500, 1500) },
    { expect: 'AT+QSSLRECV=0,1500\r', reply: recvReply(6000, 0) },
    { expect: 'AT+QSSLCLOSE=0\r', reply: '\r\nOK\r\n' },
  ], chunking);
  const got: Buffer[] = [];
  await until(() => conn.accessMode === 'buffer' && conn.readableLength === 3000, 'the pause');
  got.push(conn.read());
  await until(() => conn.peerClosed && conn.readableLength >= 3000, 'what the module held');
  got.push(conn.read());
  await until(() => conn.state === 'closed', 'the close');
  got.push(conn.read());
  expect(Buffer.concat(got).equals(stream(0, 6000))).toBe(true);
  expect(conn.ended).toBe(true);
});

test('a drop of the send queue releases a waiting writer after the call, once: a write from its drain listener cannot break the close', async () => {
  const { conn } = await open([
    { expect: 'AT+QSSLSEND=0,1460\r', reply: '\r\n> ' },
    { expect: /[\s\S]{1460}/, reply: [{ delayMs: 50 }, '\r\nSEND OK\r\n'] },
    { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' },
  ]);
  expect(conn.enqueue(Buffer.alloc(64 * 1024, 0x61))).toBe(false);
  const thrown: string[] = [];
  conn.on('drain', () => {
    try {
      conn.enqueue(Buffer.from('more'));
    } catch (e) {
      thrown.push((e as QuectelError).code);
    }
  });
  await new Promise((r) => setTimeout(r, 10));
  await conn.close('abort');
  await new Promise((r) => setImmediate(r));
  expect(conn.state).toBe('closed');
  expect(thrown).toEqual(['SOCKET_CLOSED']);
});

test('close("abort") while a refused send is on the line: no wait for room after its SEND FAIL', async () => {
  const { conn } = await open([
    { expect: 'AT+QSSLSEND=0,5\r', reply: '\r\n> ' },
    { expect: 'hello', reply: [{ delayMs: 100 }, '\r\nSEND FAIL\r\n'] },
    { expect: 'AT+QSSLCLOSE=0,0\r', reply: '\r\nOK\r\n' },
  ], 'whole', { sendRetry: { firstMs: 20_000, maxMs: 20_000 } });
  conn.enqueue(Buffer.from('hello'));
  await new Promise((r) => setTimeout(r, 30)); // the payload is on the line, its answer not yet
  const t0 = performance.now();
  await conn.close('abort');
  expect(performance.now() - t0).toBeLessThan(5000);
});
