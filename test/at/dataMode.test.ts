/**
 * The engine in transparent data mode (quectel-at.md §5.2) and direct-push framing, on a fake port the test plays the
 * module on: no byte after `CONNECT` is read as AT, commands fail at once instead of being written into the data,
 * `NO CARRIER` / an escape's `OK` / `RDY` end data mode only when nothing but command-mode output follows them,
 * and the escape keeps its guard times. Chunk boundaries are chosen by fast-check.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { DataChannel } from '../../src/at/DataChannel.js';
import { isQuectelError } from '../../src/errors.js';
import type { Transport, TransportEvents } from '../../src/transport/Transport.js';

const GUARD = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port whose far end is the test: every write is recorded with its time; `emit` plays module output. */
class FakePort extends EventEmitter<TransportEvents> implements Transport {
  readonly url = 'fake://module';
  isOpen = true;
  readonly writes: Array<{ readonly at: number; readonly text: string }> = [];
  private waiters: Array<() => void> = [];

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error('closed'));
    this.writes.push({ at: performance.now(), text: Buffer.from(data).toString('latin1') });
    for (const w of this.waiters.splice(0)) w();
    return Promise.resolve();
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.isOpen) {
      this.isOpen = false;
      this.emit('close', { reason: 'closed' });
    }
    return Promise.resolve();
  }

  /** Module output, in the given pieces. */
  emitChunks(...chunks: Array<string | Uint8Array>): void {
    for (const c of chunks) this.emit('data', typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  }

  /** Everything the host wrote, joined. */
  get written(): string {
    return this.writes.map((w) => w.text).join('');
  }

  /** Waits until the host wrote something that contains `text`. */
  async waitWritten(text: string, timeoutMs = 3000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.written.includes(text)) {
      if (performance.now() > deadline) throw new Error(`never wrote ${JSON.stringify(text)}; wrote ${JSON.stringify(this.written)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 10);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/** An engine on a fake port, in data mode after `AT+QSSLOPEN=…,2` answered `\r\nCONNECT\r\n` and `after`. */
async function inDataMode(after: Array<string | Uint8Array> = [], options: { settleMs?: number } = {}) {
  const port = new FakePort();
  const at = await AtClient.open(port, { guardTimeMs: GUARD, dataModeSettleMs: options.settleMs ?? 20, fenceTimeoutMs: 200 });
  const opening = at.send('AT+QSSLOPEN=1,1,0,"h.test",443,2');
  await port.waitWritten('AT+QSSLOPEN=1,1,0,"h.test",443,2\r');
  port.emitChunks('\r\nCONNECT\r\n', ...after);
  const reply = await opening;
  expect(reply.final).toBe('CONNECT');
  const channel = reply.channel!;
  const got: Buffer[] = [];
  channel.onData((b) => got.push(Buffer.from(b)));
  return { port, at, channel, data: () => Buffer.concat(got).toString('latin1') };
}

const code = (c: string) => (e: unknown) => isQuectelError(e, c as never);

test('bytes glued to CONNECT are the connection\'s; the dialect knows access mode 2 has no late result', async () => {
  const { channel, data, at } = await inDataMode(['hello\r\nOK\r\n']);
  await sleep(50);
  expect(data()).toBe('hello\r\nOK\r\n');
  expect(channel.state).toBe('data');
  expect(at.engine.dataChannel).toBe(channel);
});

test('a command in data mode fails at once with AT_DATA_MODE and nothing is written', async () => {
  const { port, at } = await inDataMode();
  const before = port.written;
  const t0 = performance.now();
  await expect(at.send('AT+CSQ')).rejects.toSatisfy(code('AT_DATA_MODE'));
  expect(performance.now() - t0).toBeLessThan(50);
  expect(port.written).toBe(before);
});

test('commands queued behind the transparent open fail at CONNECT instead of going into the data', async () => {
  const port = new FakePort();
  const at = await AtClient.open(port, { guardTimeMs: GUARD });
  const opening = at.send('AT+QSSLOPEN=1,1,0,"h.test",443,2');
  const queued = at.send('AT+QSSLRECV=1,1500');
  await port.waitWritten('AT+QSSLOPEN');
  port.emitChunks('\r\nCONNECT\r\n');
  await expect(queued).rejects.toSatisfy(code('AT_DATA_MODE'));
  expect((await opening).channel?.state).toBe('data');
  await sleep(20);
  expect(port.written).not.toContain('QSSLRECV');
});

test('property: NO CARRIER after the data, cut anywhere, ends data mode; the data is whole and a URC after it is a URC', async () => {
  const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
  const tail = Buffer.from('\r\nNO CARRIER\r\n\r\n+QIURC: "pdpdeact",1\r\n', 'latin1');
  const all = Buffer.concat([payload, tail]);
  await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 12 }), async (cuts) => {
    const sorted = [...cuts].sort((a, b) => a - b);
    const pieces = [0, ...sorted].map((c, i) => all.subarray(c, sorted[i] ?? all.length));
    const { channel, data, at } = await inDataMode();
    const urcs: string[] = [];
    at.onUrc('+QIURC:', (l) => urcs.push(l));
    const port = at.engine.transport as FakePort;
    port.emitChunks(...pieces);
    expect(await channel.ended).toBe('no-carrier');
    expect(data()).toBe(payload.toString('latin1'));
    expect(urcs).toEqual(['+QIURC: "pdpdeact",1']);
    // Command mode again.
    const ask = at.send('AT+QSSLCLOSE=0');
    await port.waitWritten('AT+QSSLCLOSE=0\r');
    port.emitChunks('\r\nOK\r\n');
    expect((await ask).final).toBe('OK');
    return true;
  }), { numRuns: 40 });
}, 60_000);

test('NO CARRIER, OK and RDY inside the data with more data after them are data', async () => {
  const text = 'x\r\nNO CARRIER\r\ny\r\nRDY\r\n+QIURC: "closed",0\r\nz\r\nOK\r\n!';
  const { channel, data } = await inDataMode([text.slice(0, 7), text.slice(7)]);
  await sleep(80);
  expect(data()).toBe(text);
  expect(channel.state).toBe('data');
});

test('the end of a read that could begin NO CARRIER is delivered once the line stays quiet', async () => {
  const { data, port } = await inDataMode([], { settleMs: 30 });
  port.emitChunks('line\r\n');
  expect(data()).toBe('line');
  await sleep(60);
  expect(data()).toBe('line\r\n');
});

test('the escape keeps its guard times: quiet before +++, an OK before a guard time is data, the OK after it ends data mode', async () => {
  const { channel, port, data } = await inDataMode();
  await channel.write(Buffer.from('request'));
  const lastData = port.writes.at(-1)!.at;
  const escaping = channel.escape();
  await expect(channel.write(Buffer.from('late'))).rejects.toSatisfy(code('AT_DATA_MODE_ENDED'));
  await port.waitWritten('+++');
  const plus = port.writes.find((w) => w.text === '+++')!;
  expect(plus.at - lastData).toBeGreaterThanOrEqual(GUARD);
  // The peer's data may hold \r\nOK\r\n right after: no module answers before the guard time.
  port.emitChunks('reply\r\nOK\r\n');
  await sleep(GUARD * 1.2);
  expect(channel.state).toBe('escaping');
  port.emitChunks('\r\nOK\r\n\r\n+QSSLURC: "recv",0\r\n');
  await escaping;
  expect(channel.endedBy).toBe('escaped');
  expect(data()).toBe('reply\r\nOK\r\n');
  expect(port.written.endsWith('+++')).toBe(true);
});

test('an escape nobody answers: data mode is given up as lost and the engine resynchronises before the next command', async () => {
  const { channel, port, at } = await inDataMode();
  await channel.escape();
  expect(channel.endedBy).toBe('lost');
  expect(port.writes.filter((w) => w.text === '+++')).toHaveLength(2);
  const next = at.send('AT+CGMM');
  await port.waitWritten('AT+CMEE?\r');
  port.emitChunks('\r\n+CMEE: 1\r\n\r\nOK\r\n');
  await port.waitWritten('AT+CGMM\r');
  port.emitChunks('\r\nEC25\r\n\r\nOK\r\n');
  expect((await next).lines).toEqual(['EC25']);
}, 15_000);

test('RDY in the data with the boot banner after it: the module restarted, data mode is over, and the reset is reported', async () => {
  const { channel, at, port } = await inDataMode();
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  port.emitChunks('partial', '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n');
  expect(await channel.ended).toBe('reset');
  expect(resets).toEqual(['RDY']);
});

test('the port closes in data mode: the channel ends as closed and writes fail', async () => {
  const { channel, port } = await inDataMode();
  await port.close();
  expect(await channel.ended).toBe('closed');
  await expect(channel.write(Buffer.from('x'))).rejects.toSatisfy(code('AT_DATA_MODE_ENDED'));
});

test('a write of nothing but +++ after a quiet line goes out one + at a time, each more than a guard time apart', async () => {
  const { channel, port } = await inDataMode();
  await sleep(GUARD);
  await channel.write(Buffer.from('+++'));
  const plus = port.writes.filter((w) => w.text === '+');
  expect(plus).toHaveLength(3);
  expect(plus[1]!.at - plus[0]!.at).toBeGreaterThan(GUARD);
  expect(plus[2]!.at - plus[1]!.at).toBeGreaterThan(GUARD);
  // Not after a quiet line, or with anything else in it: written as it is.
  await channel.write(Buffer.from('a+++'));
  await channel.write(Buffer.from('+++'));
  expect(port.writes.slice(-2).map((w) => w.text)).toEqual(['a+++', '+++']);
}, 10_000);

test('ATO and AT+QISWTMD=<id>,2 enter data mode too; ATO answered NO CARRIER is an error', async () => {
  const port = new FakePort();
  const at = await AtClient.open(port, { guardTimeMs: GUARD });
  const none = at.send('ATO');
  await port.waitWritten('ATO\r');
  port.emitChunks('\r\nNO CARRIER\r\n');
  await expect(none).rejects.toSatisfy(code('AT_ERROR'));
  const back = at.send('ATO');
  await port.waitWritten('ATO\rATO\r');
  port.emitChunks('\r\nCONNECT\r\nbuffered');
  const channel = (await back).channel as DataChannel;
  const got: string[] = [];
  channel.onData((b) => got.push(Buffer.from(b).toString('latin1')));
  expect(got.join('')).toBe('buffered');
  port.emitChunks('\r\nNO CARRIER\r\n');
  expect(await channel.ended).toBe('no-carrier');
  const sw = at.send('AT+QISWTMD=0,2');
  await port.waitWritten('AT+QISWTMD=0,2\r');
  port.emitChunks('\r\nCONNECT\r\n');
  expect((await sw).channel?.state).toBe('data');
});

test('property: direct-push URCs glued to a reply, before, inside and after it, cut anywhere: every byte where it belongs', async () => {
  const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
  const push = (id: number, data: Buffer) => Buffer.concat([Buffer.from(`\r\n+QSSLURC: "recv",${id},${data.length}\r\n`, 'latin1'), data, Buffer.from('\r\n')]);
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 1, max: 1500 }), fc.constantFrom('before', 'after-echo', 'after'),
    fc.uniqueArray(fc.integer({ min: 1, max: 4000 }), { maxLength: 10 }),
    async (readLen, pushLen, where, cuts) => {
      const port = new FakePort();
      const at = await AtClient.open(port, { urcDataLength: (l) => { const m = /^\+QSSLURC: "recv",1,(\d+)$/.exec(l); return m ? Number(m[1]) : undefined; } });
      const pushed: Buffer[] = [];
      at.onUrc('+QSSLURC: "recv",1,', (_l, d) => pushed.push(Buffer.from(d!)));
      const readData = bytes(readLen, 7);
      const pushData = Buffer.concat([bytes(pushLen, 3), Buffer.from('\r\nOK\r\n+QSSLRECV: 9\r\n', 'latin1')]);
      const reply = Buffer.concat([Buffer.from(`\r\n+QSSLRECV: ${readLen}\r\n`, 'latin1'), readData, Buffer.from('\r\n\r\nOK\r\n', 'latin1')]);
      const echo = Buffer.from('AT+QSSLRECV=0,1500\r', 'latin1');
      const stream = where === 'before' ? Buffer.concat([push(1, pushData), echo, reply])
        : where === 'after-echo' ? Buffer.concat([echo, push(1, pushData), reply])
          : Buffer.concat([echo, reply, push(1, pushData)]);
      const sorted = [...new Set(cuts.filter((c) => c < stream.length))].sort((a, b) => a - b);
      const pieces = [0, ...sorted].map((c, i) => stream.subarray(c, sorted[i] ?? stream.length));
      const reading = at.send('AT+QSSLRECV=0,1500');
      await port.waitWritten('AT+QSSLRECV=0,1500\r');
      port.emitChunks(...pieces);
      const r = await reading;
      expect(Buffer.from(r.data).equals(readData)).toBe(true);
      await sleep(0);
      expect(pushed).toHaveLength(1);
      expect(pushed[0]!.equals(pushData)).toBe(true);
      await at.close();
      return true;
    }), { numRuns: 150 });
}, 60_000);
