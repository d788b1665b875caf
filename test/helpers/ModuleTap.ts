/**
 * A raw byte driver for the virtual module: writes host bytes and waits for exact module bytes, with no AT engine in
 * between, so the emulator's framing is checked on its own (style.md §11: never with the parsers in src/at).
 */
import type { VirtualModule } from '../../src/emulator/index.js';

const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*|SEND OK|SEND FAIL)\r\n$/;

export class ModuleTap {
  private buf = Buffer.alloc(0);
  private mark = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly module: VirtualModule) {
    module.on('output', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (const w of this.waiters.splice(0)) w();
    });
    module.attach();
  }

  /** Everything received since the last {@link take}, without consuming it. */
  get pending(): Buffer {
    return this.buf.subarray(this.mark);
  }

  write(data: string | Uint8Array): void {
    this.module.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Consumes and returns what arrived since the last take. */
  take(): Buffer {
    const out = this.buf.subarray(this.mark);
    this.mark = this.buf.length;
    return Buffer.from(out);
  }

  /** Waits until the bytes since the last take satisfy `done`, then consumes and returns them. */
  async until(done: RegExp | string | ((b: Buffer) => boolean), timeoutMs = 5000): Promise<Buffer> {
    const test = typeof done === 'function' ? done
      : typeof done === 'string' ? (b: Buffer) => b.includes(Buffer.from(done, 'latin1'))
        : (b: Buffer) => done.test(b.toString('latin1'));
    const deadline = Date.now() + timeoutMs;
    while (!test(this.pending)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${String(done)}; have ${JSON.stringify(this.pending.toString('latin1'))}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.take();
  }

  /** Sends a command line (CR added) and returns the text up to and including its final result code. */
  async command(line: string, timeoutMs = 5000): Promise<string> {
    this.write(`${line}\r`);
    return (await this.until(FINAL, timeoutMs)).toString('latin1');
  }

  /** Waits for the boot banner to end with `last` (default: the model's last boot URC, or RDY). */
  async booted(): Promise<string> {
    const last = this.module.bootUrcs.at(-1) ?? 'RDY';
    return (await this.until(`\r\n${last}\r\n`)).toString('latin1');
  }
}
