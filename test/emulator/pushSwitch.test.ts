/**
 * `AT+QISWTMD=<id>,<0|1>` on an SSL connection of the virtual module (quectel-at.md §5): push → buffer → push, byte
 * for byte; where the switch falls in the output (pushed data before the `OK`, the new mode after it); push mode
 * paced by the line, so a switch stops it within a window; and a peer's close after the last pushed byte.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { PUSH_WINDOW } from '../../src/emulator/commands/sockets.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { PUSH_CHUNK } from '../../src/emulator/network/NetConnection.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { makePki } from '../helpers/pki.js';
import { sourceBytes, startTlsEchoServer, startTlsSourceServer, type TlsEchoServer, type TlsSourceServer } from '../helpers/tlsPeers.js';

let echo: TlsEchoServer;
let source: TlsSourceServer;
const modules: VirtualModule[] = [];
beforeAll(async () => {
  const pki = await makePki();
  echo = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  source = await startTlsSourceServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
}, 60_000);
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});
afterAll(async () => {
  await echo.close();
  await source.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One piece of module output: a line, with the bytes of a direct-push URC or a read block, and where it started. */
interface Piece { readonly line: string; readonly data?: Buffer; readonly at: number }

/**
 * Cuts module output into lines, direct-push URCs with their bytes and `+QSSLRECV:` blocks: the test's own reading,
 * independent of the library's framer. A partial piece at the end is left for later.
 */
function pieces(out: Buffer): { pieces: Piece[]; used: number } {
  const got: Piece[] = [];
  let i = 0;
  for (;;) {
    while (i < out.length && (out[i] === 0x0d || out[i] === 0x0a)) i++;
    if (out.subarray(i, i + 2).toString('latin1') === '> ') {
      got.push({ line: '> ', at: i });
      i += 2;
      continue;
    }
    const end = out.indexOf('\r\n', i);
    if (end < 0) return { pieces: got, used: i };
    const line = out.subarray(i, end).toString('latin1');
    const n = Number((/^\+QSSLURC: "recv",\d+,(\d+)$/.exec(line) ?? /^\+QSSLRECV: (\d+)$/.exec(line))?.[1] ?? -1);
    if (n > 0) {
      if (end + 2 + n > out.length) return { pieces: got, used: i };
      got.push({ line, data: out.subarray(end + 2, end + 2 + n), at: i });
      i = end + 2 + n;
    } else {
      got.push({ line, at: i });
      i = end + 2;
    }
  }
}

/** The raw line to a module: everything it printed (kept), commands written, and waits on what came. */
class Line {
  out = Buffer.alloc(0);
  private wakers: Array<() => void> = [];

  constructor(readonly module: VirtualModule) {
    module.on('output', (b: Buffer) => {
      this.out = Buffer.concat([this.out, b]);
      for (const w of this.wakers.splice(0)) w();
    });
  }

  write(text: string): number {
    const at = this.out.length;
    this.module.write(Buffer.from(text, 'latin1'));
    return at;
  }

  /** Waits until `ok` holds for the pieces printed from `from` on. */
  async until(ok: (p: Piece[]) => boolean, from = 0, timeoutMs = 10_000): Promise<Piece[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const p = pieces(this.out.subarray(from)).pieces.map((x) => ({ ...x, at: x.at + from }));
      if (ok(p)) return p;
      if (performance.now() > deadline) throw new Error(`timed out; last output ${JSON.stringify(this.out.subarray(-200).toString('latin1'))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20);
        this.wakers.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Writes a command (and its payload after `> `); resolves with what it printed, through its final result. */
  async command(text: string, payload?: string): Promise<string> {
    const from = this.write(`${text}\r`);
    if (payload !== undefined) {
      await this.until((p) => p.some((x) => x.line === '> '), from);
      this.module.write(Buffer.from(payload, 'latin1'));
    }
    const p = await this.until((p) => p.some((x) => /^(OK|ERROR|SEND OK)$/.test(x.line)), from);
    const final = p.find((x) => /^(OK|ERROR|SEND OK)$/.test(x.line))!;
    return this.out.subarray(from, final.at + final.line.length + 2).toString('latin1');
  }
}

async function setup(options: VirtualModuleOptions = {}): Promise<{ m: VirtualModule; line: Line }> {
  const m = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${echo.port}`, 'source.test': `127.0.0.1:${source.port}` }, ...options });
  modules.push(m);
  const at = new RawAtSession(linkOf(m));
  await at.waitLines(['RDY', ...m.bootUrcs]);
  expect((await at.send('ATE0')).final).toBe('OK');
  expect((await at.send('AT+QIACT=1')).final).toBe('OK');
  return { m, line: new Line(m) };
}

async function openPush(line: Line, host: string): Promise<void> {
  const from = line.out.length;
  expect(await line.command(`AT+QSSLOPEN=1,1,0,"${host}",443,1`)).toBe('\r\nOK\r\n');
  await line.until((p) => p.some((x) => x.line === '+QSSLOPEN: 0,0'), from);
}

test('push → buffer (a notification, reads to 0) → push (what came meanwhile right after the OK) → push', async () => {
  const { line } = await setup();
  await openPush(line, 'echo.test');
  let from = line.out.length;
  await line.command('AT+QSSLSEND=0,3', 'one');
  await line.until((p) => p.some((x) => x.data?.toString() === 'one'), from);
  expect(line.out.subarray(from).toString('latin1')).toBe('\r\n> \r\nSEND OK\r\n\r\n+QSSLURC: "recv",0,3\r\none\r\n');

  expect(await line.command('AT+QISWTMD=0,0')).toBe('\r\nOK\r\n');
  from = line.out.length;
  await line.command('AT+QSSLSEND=0,3', 'two');
  await line.until((p) => p.some((x) => x.line === '+QSSLURC: "recv",0'), from);
  expect(line.out.subarray(from).toString('latin1')).toBe('\r\n> \r\nSEND OK\r\n\r\n+QSSLURC: "recv",0\r\n');
  expect(await line.command('AT+QSSLRECV=0,1500')).toBe('\r\n+QSSLRECV: 3\r\ntwo\r\n\r\nOK\r\n');
  expect(await line.command('AT+QSSLRECV=0,1500')).toBe('\r\n+QSSLRECV: 0\r\n\r\nOK\r\n');

  from = line.out.length;
  await line.command('AT+QSSLSEND=0,5', 'three');
  await line.until((p) => p.some((x) => x.line === '+QSSLURC: "recv",0'), from); // re-armed by the read of 0
  from = line.out.length;
  line.write('AT+QISWTMD=0,1\r');
  await line.until((p) => p.some((x) => x.data !== undefined), from);
  expect(line.out.subarray(from).toString('latin1')).toBe('\r\nOK\r\n\r\n+QSSLURC: "recv",0,5\r\nthree\r\n');
  expect(await line.command('AT+QSSLRECV=0,1500')).toBe('\r\nERROR\r\n'); // push mode has no reads (§5.1, T27)

  from = line.out.length;
  await line.command('AT+QSSLSEND=0,4', 'four');
  await line.until((p) => p.some((x) => x.data?.toString() === 'four'), from);
  expect(await line.command('AT+QSSLSTATE=0')).toMatch(/,2,1,0,1,"usbat",1\r\n/);
});

test('a paced line: no pushed byte follows the OK of AT+QISWTMD=<id>,0, what came after it was asked is bounded, the rest is read in order', async () => {
  const baud = 921_600;
  const { line } = await setup({ baud });
  await openPush(line, 'source.test');
  const total = 96 * 1024;
  const from = line.out.length;
  await line.command(`AT+QSSLSEND=0,${String(total).length + 6}`, `DOWN ${total}\n`);
  await line.until((p) => p.filter((x) => x.data).length >= 4, from);
  const t0 = performance.now();
  const asked = line.write('AT+QISWTMD=0,0\r');
  const p = await line.until((p) => p.some((x) => x.line === 'OK'), asked);
  const dt = performance.now() - t0;
  const ok = p.findIndex((x) => x.line === 'OK');
  const afterAsking = p.slice(0, ok).reduce((n, x) => n + (x.data?.length ?? 0), 0);
  // The window and the URC that filled it, plus what the line carried while the command went over and was run.
  expect(afterAsking).toBeLessThanOrEqual(PUSH_WINDOW + PUSH_CHUNK + (baud / 10) * (dt / 1000) + 200);
  // Nothing pushed after the OK; one notification for what the module kept.
  await sleep(100);
  const after = pieces(line.out.subarray(p[ok]!.at)).pieces;
  expect(after.filter((x) => x.line.startsWith('+QSSLURC')).map((x) => x.line)).toEqual(['+QSSLURC: "recv",0']);
  const pushed = Buffer.concat(pieces(line.out.subarray(from)).pieces.filter((x) => x.line.startsWith('+QSSLURC: "recv",0,')).map((x) => x.data!));
  expect(pushed.length).toBeLessThan(total);
  const read: Buffer[] = [pushed];
  for (let n = pushed.length; n < total;) {
    const r = pieces(Buffer.from(await line.command('AT+QSSLRECV=0,1500'), 'latin1')).pieces.find((x) => x.line.startsWith('+QSSLRECV:'))!;
    if (r.data) read.push(r.data);
    n += r.data?.length ?? 0;
    if (!r.data) await sleep(10);
  }
  expect(Buffer.concat(read).equals(sourceBytes(0, total))).toBe(true);
}, 20_000);

test('the peer closes in push mode while bytes are still to go out: "closed" follows the last pushed byte', async () => {
  const { line } = await setup({ baud: 460_800 });
  await openPush(line, 'source.test');
  const total = 40_000;
  const from = line.out.length;
  await line.command('AT+QSSLSEND=0,15', `DOWN ${total}\nBYE\n`);
  const p = await line.until((p) => p.some((x) => x.line === '+QSSLURC: "closed",0'), from);
  const urcs = p.filter((x) => x.line.startsWith('+QSSLURC'));
  expect(urcs.at(-1)!.line).toBe('+QSSLURC: "closed",0');
  expect(Buffer.concat(urcs.slice(0, -1).map((x) => x.data!)).equals(sourceBytes(0, total))).toBe(true);
  // The id stays in the closing state until the host closes it: transparent mode is refused, buffer mode is not.
  expect(await line.command('AT+QISWTMD=0,2')).toBe('\r\nERROR\r\n');
  expect(await line.command('AT+QISWTMD=0,0')).toBe('\r\nOK\r\n');
  expect(await line.command('AT+QSSLCLOSE=0')).toBe('\r\nOK\r\n');
}, 20_000);

test('switched to buffer mode after the peer closed while bytes were still to be pushed: a notification, the close, the rest by reads', async () => {
  const { line } = await setup({ baud: 115_200 });
  await openPush(line, 'source.test');
  const total = 20_000;
  const from = line.out.length;
  await line.command('AT+QSSLSEND=0,15', `DOWN ${total}\nBYE\n`);
  await line.until((p) => p.filter((x) => x.data).length >= 2, from);
  await sleep(100); // the peer's data and its close are in the module by now; the line is far behind
  const asked = line.write('AT+QISWTMD=0,0\r');
  const p = await line.until((p) => p.some((x) => x.line === '+QSSLURC: "closed",0'), asked);
  const ok = p.findIndex((x) => x.line === 'OK');
  expect(p.slice(ok).map((x) => x.line)).toEqual(['OK', '+QSSLURC: "recv",0', '+QSSLURC: "closed",0']);
  const pushed = Buffer.concat(pieces(line.out.subarray(from)).pieces.filter((x) => x.line.startsWith('+QSSLURC: "recv",0,')).map((x) => x.data!));
  const read: Buffer[] = [pushed];
  for (;;) {
    const r = pieces(Buffer.from(await line.command('AT+QSSLRECV=0,1500'), 'latin1')).pieces.find((x) => x.line.startsWith('+QSSLRECV:'))!;
    if (!r.data) break;
    read.push(r.data);
  }
  expect(Buffer.concat(read).equals(sourceBytes(0, total))).toBe(true);
}, 20_000);
