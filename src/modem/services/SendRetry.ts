/**
 * When a connection sends again after `SEND FAIL` (the module's send buffer is full, quectel-at.md §4.1).
 *
 * A refused send has cost a whole command on the line: the module answers `SEND FAIL` only after the prompt and the
 * payload. While the peer (or the network) is slower than the line the buffer stays full, and a retry that comes
 * before the network took a chunk's worth is refused again. `backoff` starts every chunk from the shortest wait and
 * is refused several times a chunk; `paced` learns the gap between sends that the buffer allows and keeps it for the
 * chunks that follow. With a peer at a quarter of the line bench/send.bench.ts measured 1.6 to 7 times fewer
 * refusals for `paced`, 2–10 % of the line wasted on them against 11–46 %, and the same goodput, so it is the default
 * (README, Performance).
 */

import { QuectelError } from '../../errors.js';

/** How a connection waits after `SEND FAIL`; `firstMs` and `maxMs` bound every wait. */
export interface SendRetryPolicy {
  /**
   * `paced`: after a refusal wait a gap that doubles with each refusal and is kept for the chunks that follow (each
   * send waits until that long after the last `SEND OK`); a chunk taken at the first try shortens it by a fifth,
   * and it ends once below half of `firstMs`. `backoff`: each chunk waits `firstMs`·2^attempt after its refusals,
   * and the next chunk is sent at once (the default before `paced`). Default: `paced`.
   */
  readonly kind?: 'paced' | 'backoff';
  /** The first wait. Default: 20 ms. */
  readonly firstMs?: number;
  /** The longest wait. Default: 1000 ms. */
  readonly maxMs?: number;
}

/** Shrink of the gap per chunk taken at the first try: small enough that a steady slow peer rarely refuses. */
const SHORTEN = 0.8;
/**
 * Gaps a connection may stay idle before the gap is forgotten: by then the network took as many chunks as a full
 * buffer holds at the pace that gap allowed (10240 bytes are 7 chunks), so a burst after a pause starts at once.
 */
const IDLE_GAPS = 8;
/** Longest wait a policy may ask for: the module's own send timeout is of this order. */
const MAX_WAIT_MS = 60_000;

/**
 * Checks a policy before any connection uses it (`Modem.open`): a wait of 0, a negative or not-a-number wait would
 * send again at once, turning a full buffer into a storm of refused sends.
 * @throws QuectelError `INVALID_ARGUMENT`
 */
export function checkSendRetryPolicy(policy: SendRetryPolicy | undefined): void {
  if (policy === undefined) return;
  const bad = (what: string, value: unknown, rule: string) =>
    new QuectelError('INVALID_ARGUMENT', `connections.sendRetry.${what} must be ${rule}, got ${JSON.stringify(value) ?? String(value)}`, { what: `sendRetry.${what}` });
  const kind: unknown = policy.kind;
  if (kind !== undefined && kind !== 'paced' && kind !== 'backoff') throw bad('kind', kind, "'paced' or 'backoff'");
  const first: unknown = policy.firstMs;
  const isWait = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 1 && v <= MAX_WAIT_MS;
  if (first !== undefined && !isWait(first)) throw bad('firstMs', first, `a number of milliseconds from 1 to ${MAX_WAIT_MS}`);
  const max: unknown = policy.maxMs;
  if (max !== undefined && !isWait(max)) throw bad('maxMs', max, `a number of milliseconds from 1 to ${MAX_WAIT_MS}`);
  if (max !== undefined && max < (first ?? 20)) throw bad('maxMs', max, `at least firstMs (${String(first ?? 20)})`);
}

/** The retry state of one connection (one module send buffer). */
export class SendRetry {
  private readonly kind: 'paced' | 'backoff';
  private readonly firstMs: number;
  private readonly maxMs: number;
  /** `paced`: the gap kept between sends, 0 while the buffer has room. */
  private gapMs = 0;
  private lastTakenAt = Number.NEGATIVE_INFINITY;

  constructor(policy: SendRetryPolicy = {}, private readonly now: () => number = () => performance.now()) {
    this.kind = policy.kind ?? 'paced';
    this.firstMs = policy.firstMs ?? 20;
    this.maxMs = Math.max(this.firstMs, policy.maxMs ?? 1000);
  }

  /** Milliseconds to wait before a chunk's first attempt. */
  beforeSend(): number {
    if (this.gapMs === 0) return 0;
    const idle = this.now() - this.lastTakenAt;
    if (idle >= IDLE_GAPS * this.gapMs) {
      this.gapMs = 0;
      return 0;
    }
    return Math.max(0, this.gapMs - idle);
  }

  /** The `attempt`-th attempt of a chunk (0 for its first) was refused: milliseconds to wait before the next. */
  refused(attempt: number): number {
    if (this.kind === 'backoff') return Math.min(this.maxMs, this.firstMs * 2 ** Math.min(attempt, 30));
    this.gapMs = Math.min(this.maxMs, Math.max(this.firstMs, this.gapMs * 2));
    return this.gapMs;
  }

  /** The module took a chunk at its `attempt`-th attempt (`SEND OK`). */
  taken(attempt: number): void {
    this.lastTakenAt = this.now();
    if (attempt > 0 || this.gapMs === 0) return;
    this.gapMs *= SHORTEN;
    if (this.gapMs < this.firstMs / 2) this.gapMs = 0;
  }
}
