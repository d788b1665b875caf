/**
 * Delivers byte chunks in order, either as fast as the event loop allows (coalescing what piled up in one tick)
 * or paced to a UART's speed: at most baud/10 bytes per second (8N1 framing is 10 bit times per byte).
 *
 * Paced delivery models the line, not a timer: each slice of bytes arrives when the line would have finished
 * sending it, counted from when the line became free. Timer lateness therefore never lowers the average rate, and
 * a short reply on an idle line takes its own transmission time, not a whole timer tick.
 * With `drip` on, every byte is delivered as its own chunk, the way a slow or interrupted link reads.
 */
export interface PacerOptions {
  /** Line speed in baud; undefined = unpaced. */
  readonly baud?: number;
}

/** Most bytes delivered at once when paced: about 2 ms of line time, so readers see a steady stream. */
const SLICE_MS = 2;

export class Pacer {
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;
  /** When the line finishes the bytes already handed out (performance.now() time). */
  private lineFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  drip = false;

  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private options: PacerOptions = {},
  ) {}

  setBaud(baud: number | undefined): void {
    this.options = { ...this.options, baud };
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
      return;
    }
    // An idle line starts now; a busy one where its previous slice ends.
    this.lineFreeAt = Math.max(this.lineFreeAt, performance.now());
    this.planSlice();
  }

  private planSlice(): void {
    const bytesPerMs = this.options.baud! / 10 / 1000;
    const size = this.drip ? 1 : Math.max(1, Math.min(this.queued, Math.floor(bytesPerMs * SLICE_MS)));
    const slice = this.take(size);
    this.lineFreeAt += slice.length / bytesPerMs;
    this.timer = setTimeout(() => this.deliver(slice), Math.max(0, this.lineFreeAt - performance.now()));
  }

  private deliver(slice: Buffer): void {
    this.timer = undefined;
    this.sink(slice);
    if (this.queued > 0 && this.options.baud !== undefined) this.planSlice();
    else this.scheduled = false;
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
}
