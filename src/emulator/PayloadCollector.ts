/**
 * Collects the raw bytes that follow a send prompt (`> `) or a `CONNECT` (QFUPL): an exact count, or up to Ctrl-Z,
 * with a gap timer reset by every byte. Nothing in this phase is parsed as a command (T22: AT text sent during a
 * QFUPL becomes file content).
 */
import type { PayloadRequest, PayloadResult } from './ModuleCore.js';

const CTRL_Z = 0x1a;
const ESC = 0x1b;

export class PayloadCollector {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private nextAck: number;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  readonly result: Promise<PayloadResult>;
  private settle!: (r: PayloadResult) => void;

  constructor(
    private readonly req: PayloadRequest,
    /** Called with bytes the module echoes back while collecting (payload echo), if any. */
    private readonly echo?: (bytes: Buffer) => void,
  ) {
    this.nextAck = req.ackEvery ?? Number.POSITIVE_INFINITY;
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.arm();
  }

  get finished(): boolean {
    return this.done;
  }

  /** Takes bytes from `chunk`; returns how many it consumed (the rest belongs to the command parser again). */
  feed(chunk: Buffer): number {
    if (this.done) return 0;
    let used: number;
    if (this.req.length !== undefined) {
      used = Math.min(chunk.length, this.req.length - this.size);
      this.append(chunk.subarray(0, used));
      if (this.size === this.req.length) this.finish('complete');
      else this.arm();
      return used;
    }
    const z = chunk.indexOf(CTRL_Z);
    const e = chunk.indexOf(ESC);
    const stop = [z, e].filter((i) => i >= 0).sort((a, b) => a - b)[0];
    if (stop === undefined) {
      this.append(chunk);
      this.arm();
      return chunk.length;
    }
    this.append(chunk.subarray(0, stop));
    this.finish(chunk[stop] === CTRL_Z ? 'ctrl-z' : 'escape');
    return stop + 1;
  }

  /** Ends collection as its gap timer would, now: the host that was sending is gone and will send nothing more. */
  expire(): void {
    this.finish('timeout');
  }

  /** Ends collection without a result that anyone will use (reset, power loss). */
  abandon(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(Buffer.from(bytes));
    this.size += bytes.length;
    this.echo?.(Buffer.from(bytes));
    while (this.size >= this.nextAck) {
      this.nextAck += this.req.ackEvery!;
      this.req.onAck?.();
    }
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const ms = this.req.gapTimeoutMs;
    if (ms !== undefined) this.timer = setTimeout(() => this.finish('timeout'), ms);
  }

  private finish(end: PayloadResult['end']): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.settle({ data: Buffer.concat(this.parts, this.size), end });
  }
}
