/**
 * Delivers byte chunks in order, either as fast as the event loop allows (coalescing what piled up in one tick)
 * or paced to a UART's speed: at most baud/10 bytes per second (8N1 framing is 10 bit times per byte).
 * With `drip` on, every byte is delivered as its own chunk, the way a slow or interrupted link reads.
 */
export interface PacerOptions {
  /** Line speed in baud; undefined = unpaced. */
  readonly baud?: number;
}

const TICK_MS = 4;

export class Pacer {
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;
  private credit = 0;
  private lastTick = 0;
  private timer: NodeJS.Timeout | undefined;
  drip = false;

  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private options: PacerOptions = {},
  ) {}

  setBaud(baud: number | undefined): void {
    this.options = { ...this.options, baud };
  }

  get pending(): number {
    return this.queued;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.queue.push(Buffer.from(chunk));
    this.queued += chunk.length;
    this.schedule();
  }

  /** Drops everything not yet delivered (power loss, unplug). */
  clear(): void {
    this.queue = [];
    this.queued = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = false;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.options.baud === undefined) {
      setImmediate(() => this.flushUnpaced());
    } else {
      this.lastTick = performance.now();
      this.credit = 0;
      this.timer = setTimeout(() => this.tick(), 0);
    }
  }

  private take(max: number): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < max && this.queue.length > 0) {
      const head = this.queue[0]!;
      const want = max - n;
      if (head.length <= want) {
        parts.push(head);
        this.queue.shift();
        n += head.length;
      } else {
        parts.push(head.subarray(0, want));
        this.queue[0] = head.subarray(want);
        n += want;
      }
    }
    this.queued -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  private flushUnpaced(): void {
    this.scheduled = false;
    if (this.queued === 0) return;
    if (this.drip) {
      this.sink(this.take(1));
      this.schedule();
      return;
    }
    this.sink(this.take(this.queued));
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now();
    const bytesPerMs = this.options.baud! / 10 / 1000;
    this.credit = Math.min(this.credit + (now - this.lastTick) * bytesPerMs, Math.max(1, bytesPerMs * TICK_MS * 4));
    this.lastTick = now;
    let allowed = Math.floor(this.credit);
    if (allowed > 0 && this.queued > 0) {
      if (this.drip) allowed = 1;
      const chunk = this.take(allowed);
      this.credit -= chunk.length;
      this.sink(chunk);
    }
    if (this.queued > 0) {
      const wait = this.credit >= 1 ? 0 : Math.max(1, Math.min(TICK_MS, (1 - this.credit) / bytesPerMs));
      this.timer = setTimeout(() => this.tick(), wait);
    } else {
      this.scheduled = false;
    }
  }
}
