/**
 * The module's side of the `+++` escape from transparent mode (quectel-at.md §5.2; BG95/BG96 TCP/IP application
 * notes §1.2/§1.3): no input for the guard time before it, the three `+` within the guard time, nothing for the
 * guard time after it. Only then does the module leave data mode; any other `+++` is data and goes to the peer.
 *
 * Times are those at which bytes reach the module (after the line's pacing): bytes of one chunk arrive together, so
 * a `+` can open an escape only as the first byte of a chunk that came after the guard time of silence.
 */

const PLUS = 0x2b;

export class EscapeDetector {
  /** When the last byte reached the module. */
  private lastInput: number;
  /** `+` bytes held back as a possible escape (0–3). */
  private plus = 0;
  private firstPlusAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly guardMs: number,
    /** Data for the peer, in order. */
    private readonly forward: (bytes: Buffer) => void,
    /** The escape was recognised: the guard time after `+++` passed in silence. */
    private readonly escaped: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Data mode starts with the line that entered it: silence is counted from there.
    this.lastInput = now();
  }

  /** Takes bytes from the host. */
  feed(chunk: Buffer): void {
    if (this.disposed || chunk.length === 0) return;
    const t = this.now();
    let runStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.plus > 0) {
        if (this.plus < 3 && b === PLUS && t - this.firstPlusAt <= this.guardMs) {
          this.plus++;
          runStart = i + 1;
          if (this.plus === 3) this.arm(this.guardMs, () => this.fire());
          continue;
        }
        // More input while it was collecting or waiting out the guard after it: the `+`s were data.
        this.release();
        runStart = i;
      } else if (b === PLUS && i === 0 && t - this.lastInput >= this.guardMs) {
        this.plus = 1;
        this.firstPlusAt = t;
        runStart = 1;
        // A lone `+` (or two) that is not completed within the guard time is data.
        this.arm(this.guardMs, () => this.release());
      }
    }
    if (runStart < chunk.length && this.plus === 0) this.forward(chunk.subarray(runStart));
    this.lastInput = t;
  }

  /** Stops: data mode ended another way (the peer closed, a reset). Held `+` bytes are dropped. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }

  private arm(ms: number, then: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(then, ms);
  }

  private release(): void {
    clearTimeout(this.timer);
    const n = this.plus;
    this.plus = 0;
    if (n > 0 && !this.disposed) this.forward(Buffer.alloc(n, PLUS));
  }

  private fire(): void {
    if (this.disposed || this.plus !== 3) return;
    this.plus = 0;
    this.disposed = true;
    this.escaped();
  }
}
