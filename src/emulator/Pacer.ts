/**
 * One direction of the virtual module's serial line: delivers byte chunks in order, either as fast as the event loop
 * allows (coalescing what piled up in one turn) or paced like a UART: at most baud/10 bytes per second (8N1 framing
 * is 10 bit times per byte).
 *
 * Paced delivery models the line, not a timer. Bytes pushed while the line is busy follow the earlier ones back to
 * back; bytes pushed to an idle line start at once. A byte is delivered only once the line has finished sending it,
 * and a burst is delivered whole when it ends (a reader is waiting for it: that wake is precise, see
 * {@link LineClock}), or every {@link SLICE_MS} of line time while a longer stream is under way (those wakes may be a
 * little late; the schedule does not drift, because times are counted from when each burst started, not from when
 * the last delivery ran). With `drip` on, every byte is delivered as its own chunk, the way a slow or interrupted
 * link reads.
 */
import { precisionClock, type LineClock } from './LineClock.js';

/** Options of {@link Pacer}. */
export interface PacerOptions {
  /** Line speed in baud. Default: unpaced. */
  readonly baud?: number;
  /** The time base. Default: {@link precisionClock}. */
  readonly clock?: LineClock;
}

/** Most line time one delivery covers while more bytes follow: 2 ms (184 bytes at 921600 baud, 23 at 115200). */
export const SLICE_MS = 2;

/** Bytes sent back to back; `start` is when the first of them not yet delivered began on the line. */
interface Burst {
  start: number;
  length: number;
}

/** Tolerance when counting finished bytes, so float rounding never holds back a byte that is due. */
const EPSILON_BYTES = 1e-6;

export class Pacer {
  /** Drip mode: one byte per delivery. Default: off. */
  drip = false;
  private chunks: Buffer[] = [];
  private queued = 0;
  /** Undelivered bytes by burst, in line order; empty when unpaced. */
  private bursts: Burst[] = [];
  private baud: number | undefined;
  private readonly clock: LineClock;
  private cancelWake: (() => void) | undefined;
  private wakeAt = Number.NaN;
  private wakePrecise = false;

  constructor(
    private readonly sink: (chunk: Buffer) => void,
    options: PacerOptions = {},
  ) {
    this.baud = options.baud;
    this.clock = options.clock ?? precisionClock;
  }

  /** Bytes pushed and not yet delivered. */
  get pending(): number {
    return this.queued;
  }

  /**
   * Changes the line speed; `undefined` removes the pacing. Bytes the line already finished at the old speed are
   * delivered at once; the rest leave at the new speed from now on.
   */
  setBaud(baud: number | undefined): void {
    if (baud === this.baud) return;
    const now = this.clock.now();
    const finished = this.baud === undefined ? this.queued : this.finishedBy(now);
    this.baud = baud;
    this.bursts = [];
    if (baud !== undefined) {
      // The finished part as a burst that ends now (due at once), the rest as one that starts now.
      if (finished > 0) this.bursts.push({ start: now - finished * this.msPerByte(), length: finished });
      if (this.queued > finished) this.bursts.push({ start: now, length: this.queued - finished });
    }
    this.plan();
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk));
    this.queued += chunk.length;
    if (this.baud !== undefined) {
      const now = this.clock.now();
      const last = this.bursts.at(-1);
      if (last !== undefined && this.endOf(last) > now) last.length += chunk.length;
      else this.bursts.push({ start: now, length: chunk.length });
    }
    this.plan();
  }

  /** Drops everything not yet delivered (power loss, unplug). */
  clear(): void {
    this.chunks = [];
    this.queued = 0;
    this.bursts = [];
    this.disarm();
    this.settleBelow();
  }

  /** Resolves once no more than `bytes` are waiting on the line (a sender that paused for room). */
  whenBelow(bytes: number): Promise<void> {
    if (this.queued <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.below.push({ bytes, resolve }));
  }

  private below: Array<{ readonly bytes: number; readonly resolve: () => void }> = [];

  private settleBelow(): void {
    if (this.below.length === 0) return;
    const still = this.below.filter((w) => w.bytes < this.queued);
    for (const w of this.below) if (w.bytes >= this.queued) w.resolve();
    this.below = still;
  }

  /** Arms the wake for the next delivery, unless the armed one is already for it. */
  private plan(): void {
    if (this.queued === 0) return this.disarm();
    const { at, precise } = this.nextDelivery();
    if (this.cancelWake !== undefined && at === this.wakeAt && precise === this.wakePrecise) return;
    this.disarm();
    this.wakeAt = at;
    this.wakePrecise = precise;
    this.cancelWake = this.clock.wakeAt(at, precise, () => this.wake());
  }

  private disarm(): void {
    this.cancelWake?.();
    this.cancelWake = undefined;
  }

  private nextDelivery(): { at: number; precise: boolean } {
    const first = this.bursts[0];
    if (this.baud === undefined || first === undefined) return { at: Number.NEGATIVE_INFINITY, precise: false };
    const perByte = this.msPerByte();
    const end = this.endOf(first);
    const due = first.start + (this.drip ? perByte : Math.max(SLICE_MS, perByte));
    return due < end ? { at: due, precise: false } : { at: end, precise: true };
  }

  private wake(): void {
    this.cancelWake = undefined;
    const ready = this.baud === undefined ? this.queued : this.finishedBy(this.clock.now());
    const count = this.drip ? Math.min(1, ready) : ready;
    if (count > 0) {
      const slice = this.take(count);
      // Planned before the sink runs, so a push from inside the sink finds the state it expects.
      this.plan();
      this.sink(slice);
    }
    this.plan();
  }

  /** How many undelivered bytes the line has finished sending by `now`. */
  private finishedBy(now: number): number {
    const perByte = this.msPerByte();
    let total = 0;
    for (const burst of this.bursts) {
      const done = Math.min(burst.length, Math.max(0, Math.floor((now - burst.start) / perByte + EPSILON_BYTES)));
      total += done;
      if (done < burst.length) break;
    }
    return total;
  }

  private endOf(burst: Burst): number {
    return burst.start + burst.length * this.msPerByte();
  }

  private msPerByte(): number {
    return 10_000 / this.baud!;
  }

  /** Takes `count` bytes off the front, in order, and moves the bursts past them. */
  private take(count: number): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < count) {
      const head = this.chunks[0]!;
      const want = count - n;
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
    this.queued -= count;
    this.settleBelow();
    let left = count;
    while (left > 0 && this.bursts.length > 0) {
      const burst = this.bursts[0]!;
      const used = Math.min(left, burst.length);
      burst.start += used * this.msPerByte();
      burst.length -= used;
      left -= used;
      if (burst.length === 0) this.bursts.shift();
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, count);
  }
}
