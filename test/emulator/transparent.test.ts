/**
 * Transparent mode in the virtual module (quectel-at.md §5.2), byte for byte and with real guard times: `CONNECT`,
 * the line as the TLS stream both ways, the guarded `+++` and only it, `ATO`, `AT+QISWTMD`, `NO CARRIER`, and the
 * URCs held while the port carries data.
 */
import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { useTlsEchoServer } from '../helpers/tlsPeers.js';

const GUARD = 100;
const peer = useTlsEchoServer();
const modules: VirtualModule[] = [];
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The raw line to a module: what it printed since the last `take`, and waits for text in it. */
class Line {
  private out = Buffer.alloc(0);
  private wakers: Array<() => void> = [];
  /** When the module printed last (performance.now()). */
  lastOutputAt = 0;

  constructor(readonly module: VirtualModule) {
    module.on('output', (b: Buffer) => {
      this.out = Buffer.concat([this.out, b]);
      this.lastOutputAt = performance.now();
      for (const w of this.wakers.splice(0)) w();
    });
  }

  write(text: string | Buffer): void {
    this.module.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Waits until the output holds `text`; returns the time it was complete. */
  async waitFor(text: string, timeoutMs = 5000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (!this.out.toString('latin1').includes(text)) {
      if (performance.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(this.out.toString('latin1').slice(-300))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20);
        this.wakers.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return performance.now();
  }

  /** Writes a command line and waits for its final result code; returns what the module printed for it. */
  async command(text: string, payload?: string): Promise<string> {
    this.take();
    this.write(`${text}\r`);
    if (payload !== undefined) {
      await this.waitFor('> ');
      this.write(payload);
    }
    const deadline = performance.now() + 5000;
    for (;;) {
      const out = this.out.toString('latin1');
      // Up to the final result code; what came after it (a URC) stays for the next wait.
      const m = /\r\n(OK|ERROR|SEND OK|NO CARRIER|CONNECT|\+CME ERROR: \d+)\r\n/.exec(out);
      if (m) {
        const end = m.index + m[0].length;
        this.out = this.out.subarray(end);
        return out.slice(0, end);
      }
      if (performance.now() > deadline) throw new Error(`no result for ${text}: ${JSON.stringify(out)}`);
      await sleep(5);
    }
  }

  /** Everything printed since the last take. */
  take(): string {
    const s = this.out.toString('latin1');
    this.out = Buffer.alloc(0);
    return s;
  }
}

/** A module booted, echo off, PDP up, and a line to it; `open` puts connection 0 in transparent mode. */
async function setup(options: VirtualModuleOptions = {}): Promise<{ m: VirtualModule; line: Line }> {
  const m = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${peer.server.port}` }, guardTimeMs: GUARD, ...options });
  modules.push(m);
  // The boot through the deliberately independent RawAtSession; from then on only the raw line.
  const at = new RawAtSession(linkOf(m));
  await at.waitLines(['RDY', ...m.bootUrcs]);
  expect((await at.send('ATE0')).final).toBe('OK');
  const line = new Line(m);
  expect(await line.command('AT+QIACT=1')).toBe('\r\nOK\r\n');
  return { m, line };
}

async function openTransparent(line: Line): Promise<void> {
  line.write('AT+QSSLOPEN=1,1,0,"echo.test",443,2\r');
  await line.waitFor('\r\nCONNECT\r\n');
  expect(line.take()).toBe('\r\nCONNECT\r\n');
}

/** Escapes with the guard times kept; resolves with the time from `+++` to `OK`. */
async function escape(line: Line): Promise<number> {
  await sleep(GUARD * 1.5);
  const t0 = performance.now();
  line.write('+++');
  const t1 = await line.waitFor('\r\nOK\r\n');
  return t1 - t0;
}

test('CONNECT, then the line is the TLS stream both ways: AT text, OK and +++ without guard times are data', async () => {
  const { line } = await setup();
  await openTransparent(line);
  const data = 'AT+QSSLCLOSE=0\r\n\r\nOK\r\n+++x+++\r\n';
  line.write(data);
  await line.waitFor(data);
  expect(line.take()).toBe(data);
});

test('property: payloads holding +++, written in random pieces with no guard time around them, never escape', async () => {
  const { line } = await setup();
  await openTransparent(line);
  const piece = fc.oneof(fc.constant('+++'), fc.constant('++'), fc.constant('+'), fc.string({ minLength: 1, maxLength: 12 }));
  await fc.assert(fc.asyncProperty(fc.array(fc.record({ text: piece, gapMs: fc.integer({ min: 0, max: GUARD / 5 }) }), { minLength: 1, maxLength: 12 }), async (pieces) => {
    // Something ends each payload, so the +++ of a last piece is followed within the guard time.
    const all = [...pieces, { text: '.', gapMs: 0 }];
    let sent = '';
    for (const p of all) {
      line.write(p.text);
      sent += p.text;
      if (p.gapMs > 0) await sleep(p.gapMs);
    }
    await line.waitFor(sent);
    return line.take() === sent;
  }), { numRuns: 25 });
  // Still in data mode: a command is data too.
  line.write('AT\r');
  await line.waitFor('AT\r');
  expect(line.take()).toBe('AT\r');
}, 60_000);

test('the escape: +++ framed by the guard time answers OK no earlier than a guard time later; the connection stays open in buffer mode', async () => {
  const { line } = await setup();
  await openTransparent(line);
  line.write('abc');
  await line.waitFor('abc');
  line.take();
  expect(await escape(line)).toBeGreaterThanOrEqual(GUARD);
  expect(line.take()).toBe('\r\nOK\r\n');
  expect(await line.command('AT+QSSLSTATE=0')).toMatch(/^\r\n\+QSSLSTATE: 0,"SSLClient","127\.0\.0\.1",\d+,\d+,2,1,0,0,"usbat",1\r\n\r\nOK\r\n$/);
});

test('too little quiet before +++, or anything within the guard time after it: data, and no OK', async () => {
  const { line } = await setup();
  await openTransparent(line);
  line.write('x');
  await sleep(GUARD / 3);
  line.write('+++');
  await sleep(GUARD * 2);
  await sleep(GUARD * 1.5);
  line.write('+++');
  await sleep(GUARD / 3);
  line.write('y');
  await line.waitFor('x++++++y');
  await sleep(GUARD * 2);
  expect(line.take()).toBe('x++++++y');
});

test('ATO returns to the connection that escaped: CONNECT, then what the peer sent meanwhile', async () => {
  const { line } = await setup();
  await openTransparent(line);
  await escape(line);
  line.take();
  // In buffer mode now: what is sent comes back as a recv URC, not on the line.
  expect(await line.command('AT+QSSLSEND=0,5', 'later')).toContain('SEND OK');
  await line.waitFor('+QSSLURC: "recv",0\r\n');
  line.take();
  line.write('ATO\r');
  await line.waitFor('\r\nCONNECT\r\nlater');
  expect(line.take()).toBe('\r\nCONNECT\r\nlater');
  line.write('again');
  await line.waitFor('again');
});

test('ATO with no connection that left transparent mode: NO CARRIER', async () => {
  const { line } = await setup();
  expect(await line.command('ATO')).toBe('\r\nNO CARRIER\r\n');
});

test('the peer closes: NO CARRIER after its last bytes, command mode, and the id waits for AT+QSSLCLOSE', async () => {
  const { m, line } = await setup();
  await openTransparent(line);
  line.write('last words');
  await line.waitFor('last words');
  m.faults.peerClose(0);
  await line.waitFor('\r\nNO CARRIER\r\n');
  expect(line.take()).toBe('last words\r\nNO CARRIER\r\n');
  expect(await line.command('AT+QSSLSTATE=0')).toMatch(/^\r\n\+QSSLSTATE: 0,.*,4,1,0,2,"usbat",1\r\n/);
  expect(await line.command('AT+QSSLCLOSE=0')).toBe('\r\nOK\r\n');
  expect(await line.command('AT+QSSLSTATE')).toBe('\r\nOK\r\n');
});

test('URCs are held while the port carries data and follow NO CARRIER', async () => {
  const { m, line } = await setup();
  await openTransparent(line);
  m.faults.pdpDeactivate(1);
  await line.waitFor('pdpdeact');
  expect(line.take()).toBe('\r\nNO CARRIER\r\n\r\n+QIURC: "pdpdeact",1\r\n');
});

test('AT+QISWTMD: buffer → push (what was buffered is pushed at once) → transparent (CONNECT) → +++ → buffer', async () => {
  const { line } = await setup();
  expect(await line.command('AT+QSSLOPEN=1,1,0,"echo.test",443,0')).toBe('\r\nOK\r\n');
  await line.waitFor('+QSSLOPEN: 0,0\r\n');
  await line.command('AT+QSSLSEND=0,3', 'one');
  await line.waitFor('+QSSLURC: "recv",0\r\n');
  line.take();
  expect(await line.command('AT+QISWTMD=0,1')).toBe('\r\nOK\r\n');
  await line.waitFor('\r\n+QSSLURC: "recv",0,3\r\none\r\n');
  line.write('AT+QISWTMD=0,2\r');
  await line.waitFor('\r\nCONNECT\r\n');
  line.take();
  line.write('two');
  await line.waitFor('two');
  await escape(line);
  expect(await line.command('AT+QSSLSTATE=0')).toMatch(/,2,1,0,0,"usbat",1\r\n/);
  expect(await line.command('AT+QISWTMD=?')).toBe('\r\n+QISWTMD: (0-11),(0-2)\r\n\r\nOK\r\n');
});

test('firmware without transparent mode: access mode 2 is a bad parameter, and the test command says (0-1)', async () => {
  const { line } = await setup({ transparent: false });
  expect(await line.command('AT+QSSLOPEN=?')).toMatch(/\[,\(0-1\)\]\r\n/);
  expect(await line.command('AT+QSSLOPEN=1,1,0,"echo.test",443,2')).toBe('\r\nERROR\r\n');
  expect(await line.command('AT+QIGETERROR')).toMatch(/^\r\n\+QIGETERROR: 552,/);
});

test('by default the guard time is a real second', async () => {
  const { line } = await setup({ guardTimeMs: undefined });
  await openTransparent(line);
  line.write('+++'); // right after CONNECT: not a second of quiet, so data
  await line.waitFor('+++');
  line.take();
  await sleep(1100);
  const t0 = performance.now();
  line.write('+++');
  const t1 = await line.waitFor('\r\nOK\r\n');
  expect(t1 - t0).toBeGreaterThanOrEqual(1000);
}, 15_000);
