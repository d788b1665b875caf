/**
 * The module's receive side of the serial line: a bounded FIFO of raw host bytes, read by the command processor
 * one command line at a time, or as payload during a prompt or `CONNECT` phase.
 *
 * A real module has a fixed receive buffer; a host that writes faster than the module works loses what does not
 * fit, as on a UART without flow control. Modelling that keeps a flood from growing memory without bound or from
 * queueing work that outlives the host (a backlog of 1.5 million `AT+GMR` lines once kept a server busy for a
 * minute after its client left).
 */

const CR = 0x0d;
const LF = 0x0a;

/** Longest command line kept; the rest of a longer line is dropped up to its CR (the line still runs, truncated). */
export const MAX_COMMAND_LINE = 4096;

export class UartReceiver {
  private chunks: Buffer[] = [];
  private size = 0;
  private line: Buffer[] = [];
  private lineSize = 0;
  /** Bytes lost because the buffer was full, since power-on. */
  dropped = 0;

  /** @param capacity bytes the buffer holds; what arrives beyond is lost. */
  constructor(readonly capacity: number) {}

  /** Bytes waiting. */
  get length(): number {
    return this.size;
  }

  /** Takes what fits; returns how many bytes were lost. */
  push(bytes: Buffer): number {
    const room = Math.max(0, this.capacity - this.size);
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
    if (kept.length > 0) {
      this.chunks.push(kept);
      this.size += kept.length;
    }
    const lost = bytes.length - kept.length;
    this.dropped += lost;
    return lost;
  }

  /** Up to `max` bytes from the front (payload after a prompt or `CONNECT`). */
  take(max: number): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < max && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const want = max - n;
      if (head.length <= want) {
        parts.push(head);
        this.chunks.shift();
        n += head.length;
      } else {
        parts.push(head.subarray(0, want));
        this.chunks[0] = head.subarray(want);
        n += want;
      }
    }
    this.size -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /**
   * The next complete command line (without its CR), or `undefined` when no CR has arrived yet. An LF right after
   * a line's CR is ignored (hosts ending lines with CR LF, §1.1). Bytes of an unfinished line leave the FIFO, so a
   * line longer than the buffer cannot block it.
   */
  nextLine(): string | undefined {
    while (this.size > 0) {
      const head = this.chunks[0]!;
      let skip = 0;
      if (this.lineSize === 0) while (skip < head.length && head[skip] === LF) skip++;
      if (skip > 0) {
        this.consume(skip);
        continue;
      }
      const cr = head.indexOf(CR);
      const end = cr < 0 ? head.length : cr;
      const keep = Math.min(end, MAX_COMMAND_LINE - this.lineSize);
      if (keep > 0) {
        this.line.push(head.subarray(0, keep));
        this.lineSize += keep;
      }
      this.consume(cr < 0 ? end : end + 1);
      if (cr >= 0) {
        const text = Buffer.concat(this.line, this.lineSize).toString('latin1');
        this.line = [];
        this.lineSize = 0;
        return text;
      }
    }
    return undefined;
  }

  private consume(n: number): void {
    const head = this.chunks[0]!;
    this.size -= n;
    if (n === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
  }

  /** Drops everything, including a line being assembled (power loss, a reboot's `OK`). */
  clear(): void {
    this.chunks = [];
    this.size = 0;
    this.line = [];
    this.lineSize = 0;
  }
}
