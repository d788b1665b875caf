/**
 * The module's send buffer (§4.1): bytes sent and not yet taken by the network count against it; a send that does not
 * fit answers `SEND FAIL` and is not sent; once the network took enough, the same send is accepted. A graceful close
 * lets what the buffer holds go out first.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RawAtSession, VirtualModule, linkOf } from '../../src/emulator/index.js';

let sink: Server;
let port = 0;
/** What the sink's latest connection received, and a wait for it to reach a length. */
let received = Buffer.alloc(0);
const sinkHas = async (n: number): Promise<void> => {
  for (const deadline = Date.now() + 5000; received.length < n;) {
    if (Date.now() > deadline) throw new Error(`the sink has ${received.length} of ${n} bytes`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
beforeAll(async () => {
  sink = createServer((s) => {
    received = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  port = (sink.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => sink.close(() => r())));

/** A module whose network takes 2000 bytes/s into a 3000-byte send buffer, a TCP connection on id 1 to the sink. */
async function connected(): Promise<{ m: VirtualModule; at: RawAtSession }> {
  const m = new VirtualModule({ model: 'BG96', sendBufferBytes: 3000, uplinkBytesPerSecond: 2000 });
  const at = new RawAtSession(linkOf(m));
  await at.waitUrc(/^RDY$/);
  for (const c of ['ATE0', 'AT+QIACT=1']) expect((await at.send(c)).final).toBe('OK');
  expect((await at.send(`AT+QIOPEN=1,1,"TCP","127.0.0.1",${port},0,0`)).final).toBe('OK');
  expect(await at.waitUrc(/^\+QIOPEN: 1,/)).toBe('+QIOPEN: 1,0');
  return { m, at };
}

const chunk = (n: number, fill: number) => Buffer.alloc(1460, fill).subarray(0, n);
/** `<unacked>` of `AT+QISEND=1,0`. */
const unacked = async (at: RawAtSession) => Number((await at.send('AT+QISEND=1,0')).lines[0]!.split(',')[2]);

test('a send that does not fit answers SEND FAIL and is not sent; once the network took enough, it is accepted', async () => {
  const { m, at } = await connected();
  try {
    expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x31))).final).toBe('SEND OK');
    expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x32))).final).toBe('SEND OK');
    // 2920 bytes minus the little the network took since: 1460 more do not fit in 3000.
    expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x33))).final).toBe('SEND FAIL');
    const [total, acked, left] = (await at.send('AT+QISEND=1,0')).lines[0]!.replace('+QISEND: ', '').split(',').map(Number);
    expect(total).toBe(2920); // the refused bytes are not counted as sent
    expect(acked! + left!).toBe(2920);
    expect(left).toBeGreaterThan(3000 - 1460);
    // A small send still fits in what is left.
    expect((await at.send('AT+QISEND=1,10', chunk(10, 0x34))).final).toBe('SEND OK');
    while ((await unacked(at)) > 3000 - 1460) await new Promise((r) => setTimeout(r, 50));
    expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x33))).final).toBe('SEND OK');
    await sinkHas(2920 + 10 + 1460);
    expect(received.equals(Buffer.concat([chunk(1460, 0x31), chunk(1460, 0x32), chunk(10, 0x34), chunk(1460, 0x33)]))).toBe(true);
    expect(await unacked(at)).toBe(0);
  } finally {
    m.dispose();
  }
});

test('a graceful close lets the send buffer drain first; a close with timeout 0 does not wait', async () => {
  const { m, at } = await connected();
  try {
    for (let i = 0; i < 2; i++) expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x41 + i))).final).toBe('SEND OK');
    const t0 = Date.now();
    expect((await at.send('AT+QICLOSE=1')).final).toBe('OK');
    // 2920 bytes at 2000 bytes/s: the OK comes once they went out.
    expect(Date.now() - t0).toBeGreaterThan(1000);
    await sinkHas(2920);
    expect(received.equals(Buffer.concat([chunk(1460, 0x41), chunk(1460, 0x42)]))).toBe(true);
    expect((await at.send(`AT+QIOPEN=1,1,"TCP","127.0.0.1",${port},0,0`)).final).toBe('OK');
    expect(await at.waitUrc(/^\+QIOPEN: 1,/)).toBe('+QIOPEN: 1,0');
    expect((await at.send('AT+QISEND=1,1460', chunk(1460, 0x43))).final).toBe('SEND OK');
    const t1 = Date.now();
    expect((await at.send('AT+QICLOSE=1,0')).final).toBe('OK');
    expect(Date.now() - t1).toBeLessThan(300);
  } finally {
    m.dispose();
  }
});

test('the options are checked: a size or pace that is not a number > 0 is refused', () => {
  expect(() => new VirtualModule({ sendBufferBytes: 0 })).toThrow(/sendBufferBytes must be a number > 0/);
  expect(() => new VirtualModule({ uplinkBytesPerSecond: Number.NaN })).toThrow(/uplinkBytesPerSecond must be a number > 0/);
});
