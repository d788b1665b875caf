/**
 * A deliberately small, sequential AT driver: one command at a time, binary-safe for `+QSSLRECV:`/`+QIRD:` blocks and
 * direct-push URCs, URCs collected on the side. It drives the emulator's own tests and the demo, and it is kept apart
 * from the library's AT engine so that the emulator is never checked with the parser it is meant to check. It has no
 * recovery of any kind: for real modules use the library.
 */
import type { VirtualModule } from './VirtualModule.js';

/** Any byte pipe to a module: the module itself, a serialport stream, a socket. */
export interface ByteLink {
  write(bytes: Uint8Array): void;
  onData(listener: (chunk: Buffer) => void): void;
}

/** The module itself as a link; subscribing attaches the host, which powers a waiting module on. */
export const linkOf = (m: VirtualModule): ByteLink => ({
  write: (b) => m.write(b),
  onData: (l) => {
    m.on('output', l);
    m.attach();
  },
});

export interface Reply {
  /** The lines of the response, the final result code last. */
  readonly lines: string[];
  readonly final: string;
  /** Bytes of a data block (`+QSSLRECV: n` …). */
  readonly data: Buffer;
}

const FINAL = /^(OK|ERROR|\+CME ERROR: .*|SEND OK|SEND FAIL)$/;
const URC = /^(\+QSSLURC: |\+QIURC: |\+QSSLOPEN: \d+,\d+$|\+QIOPEN: \d+,\d+$|RDY$|APP RDY$|POWERED DOWN$|\+CPIN: READY$|\+CFUN: |\+QUSIM: |\+QIND: )/;
const PUSH = /^\+(?:QSSLURC|QIURC): "recv",(\d+),(\d+)$/;
const BLOCK = /^\+(?:QSSLRECV|QIRD): (\d+)$/;

export class RawAtSession {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  /** URC lines seen, oldest first; direct-push data is appended to {@link pushed}. */
  readonly urcs: string[] = [];
  readonly pushed = new Map<number, Buffer[]>();

  constructor(private readonly link: ByteLink) {
    link.onData((chunk) => {
      this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
      this.wake?.();
    });
  }

  private async more(deadline: number, what: string): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}; buffered ${JSON.stringify(this.buf.subarray(0, 200).toString('latin1'))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Takes exactly `n` bytes. */
  private async bytes(n: number, deadline: number): Promise<Buffer> {
    while (this.buf.length < n) await this.more(deadline, `${n} data bytes`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  /** The next line, or `'> '` for a send prompt; leading CR/LF are skipped. */
  private async frame(deadline: number): Promise<string> {
    for (;;) {
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === 0x0d || this.buf[i] === 0x0a)) i++;
      this.buf = this.buf.subarray(i);
      if (this.buf.length >= 2 && this.buf[0] === 0x3e && this.buf[1] === 0x20) {
        this.buf = this.buf.subarray(2);
        return '> ';
      }
      const end = this.buf.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end + 2);
        return line;
      }
      await this.more(deadline, 'a line');
    }
  }

  private async urc(line: string, deadline: number): Promise<void> {
    this.urcs.push(line);
    const push = PUSH.exec(line);
    if (push) {
      const id = Number(push[1]);
      const data = await this.bytes(Number(push[2]), deadline);
      this.pushed.set(id, [...(this.pushed.get(id) ?? []), data]);
    }
  }

  /** Sends a command; answers a prompt with `payload`; resolves at the final result code. */
  async send(line: string, payload?: Uint8Array, timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    this.link.write(Buffer.from(`${line}\r`, 'latin1'));
    const lines: string[] = [];
    const data: Buffer[] = [];
    for (;;) {
      const f = await this.frame(deadline);
      if (f === '> ' || (f === 'CONNECT' && payload)) {
        if (!payload) throw new Error(`unexpected prompt for ${line}`);
        this.link.write(payload);
        continue;
      }
      if (f.replace(/\r$/, '') === line) continue; // echo (`ATE0\r` before the first CR LF)
      if (lines.length === 0 && URC.test(f) && !f.startsWith(line.replace(/^AT/, '').replace(/[=?].*$/, ''))) {
        await this.urc(f, deadline);
        continue;
      }
      lines.push(f);
      const block = BLOCK.exec(f);
      if (block && Number(block[1]) > 0) data.push(await this.bytes(Number(block[1]), deadline));
      if (FINAL.test(f)) return { lines, final: f, data: Buffer.concat(data) };
    }
  }

  /** Waits for a URC matching `pattern` (already seen ones count), consuming it. */
  async waitUrc(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.urcs.findIndex((u) => pattern.test(u));
      if (i >= 0) return this.urcs.splice(i, 1)[0]!;
      // Only URCs can arrive while no command runs.
      await this.urc(await this.frame(deadline), deadline);
    }
  }

  /** Waits for each of these exact URC lines in turn (a boot banner: `RDY`, then the model's boot URCs). */
  async waitLines(lines: readonly string[], timeoutMs = 10_000): Promise<void> {
    for (const line of lines) await this.waitUrc(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), timeoutMs);
  }

  /** Whether a URC matching `pattern` has been seen (without waiting). */
  hasUrc(pattern: RegExp): boolean {
    return this.urcs.some((u) => pattern.test(u));
  }
}
