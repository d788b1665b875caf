/**
 * One open client connection of the module: a TCP socket (`AT+QIOPEN`) or a TLS session (`AT+QSSLOPEN`) on one
 * client id. A single worker per connection issues its commands; URC handlers only set flags and wake it
 * (lessons.md §10.5).
 *
 *   send side:    enqueue() ─▶ tx queue ─▶ AT+QSSLSEND=<id>,≤1460 (full chunks while data is queued) ─▶ SEND OK
 *                                          SEND FAIL: the module's buffer is full; wait, send the same bytes again
 *                                          no answer or a restart: the outcome is unknown, never sent twice
 *   receive side: +QSSLURC: "recv" (or a poll) ─▶ AT+QSSLRECV=<id>,1500 until 0 bytes or the rx bound ─▶ rx ─▶ read()
 *                 +QSSLURC: "closed" ─▶ drain what the module still holds ─▶ AT+QSSLCLOSE ─▶ 'end' once rx is read
 *   direct push:  +QSSLURC: "recv",<id>,<len> + bytes ─▶ rx; at the rx bound ─▶ AT+QISWTMD=<id>,0 (buffer mode, as
 *                 above, while the reader is behind); read below half the bound ─▶ AT+QSSLRECV until 0 ─▶ AT+QISWTMD=<id>,1
 *
 * Push mode's bound (quectel-at.md §5): the module pushes whatever arrives and the host cannot refuse a URC, so when
 * rx reaches `maxBuffered` the worker switches the module to buffer mode, which keeps new bytes until they are read.
 * The switch counts from its `OK` (`AtCommand.onOk`): push URCs before it are still appended, a `"recv"` URC after it
 * is a notification. So rx can pass the bound by the URC that reached it (at most 1500 bytes, §5.1) plus what the
 * module pushed until it processed the switch: what it had already committed to the line (its UART buffer; the
 * virtual module's `PUSH_WINDOW`, 4 KiB) and the line's rate times the time from reaching the bound to the module
 * reading `AT+QISWTMD`: a command of this or another connection in flight first counts (a send waits for its
 * `SEND OK`). At 921600 baud that rate is 92 bytes per millisecond. A module that refuses the switch (`ERROR`:
 * firmware without `AT+QISWTMD` for this connection) keeps pushing; the connection says so once with a `'warning'`
 * (`FLOW_CONTROL_UNAVAILABLE`) and, for that connection, is unbounded as before: nothing is dropped or failed.
 *
 * In transparent mode (access mode 2, quectel-at.md §5.2) the port is the connection: queued bytes are written to
 * the {@link DataChannel} as they are, its bytes go to rx, `NO CARRIER` is the peer's close, and closing leaves data
 * mode with a guarded `+++` before `AT+QSSLCLOSE`.
 */
import { EventEmitter } from 'node:events';
import type { DataChannel } from '../../at/DataChannel.js';
import { isQuectelError, QuectelError } from '../../errors.js';
import type { ServiceHost } from './ServiceHost.js';
import { SendRetry, type SendRetryPolicy } from './SendRetry.js';

export type ConnectionKind = 'tcp' | 'ssl';

/**
 * How the module hands over received bytes (its access mode, §3, §5): `buffer` (0) keeps them for `AT+QSSLRECV`;
 * `push` (1) sends them inside the recv URC; `transparent` (2) makes the port the connection, both ways.
 */
export type ReceiveMode = 'buffer' | 'push' | 'transparent';

/** Largest write to the port in transparent mode: the port's own buffering takes it from there. */
const TRANSPARENT_WRITE = 16 * 1024;

/** The commands of one kind of connection (quectel-at.md §3–§5, §7.2). */
export interface ConnectionFamily {
  readonly send: string;
  readonly recv: string;
  readonly close: string;
  /** `+QSSLURC` / `+QIURC`: "recv" and "closed". */
  readonly urc: string;
}

export const FAMILIES: Readonly<Record<ConnectionKind, ConnectionFamily>> = {
  ssl: { send: 'AT+QSSLSEND', recv: 'AT+QSSLRECV', close: 'AT+QSSLCLOSE', urc: '+QSSLURC' },
  tcp: { send: 'AT+QISEND', recv: 'AT+QIRD', close: 'AT+QICLOSE', urc: '+QIURC' },
};

/** Most one send carries: the test command's `(1-1460)` (§4.1). */
export const MAX_SEND = 1460;
/** Most one read returns (§4.2). */
export const MAX_READ = 1500;

/** Tuning of a connection. */
export interface ConnectionTuning {
  /** Bytes read from the module and not yet taken by the application; past it draining pauses. Default: 65536. */
  readonly maxBuffered?: number;
  /** Bytes queued for sending before `enqueue` asks the writer to wait. Default: 16384. */
  readonly sendHighWater?: number;
  /** While someone waits for data and none came, read anyway this often (URCs can be lost). Default: 1000 ms. */
  readonly pollMs?: number;
  /** `SEND FAIL` (module buffer full) retries of one chunk before the send fails. Default: 100. */
  readonly sendFailRetries?: number;
  /** How long to wait after `SEND FAIL`. Default: `paced`, waits from 20 ms to 1 s (see {@link SendRetryPolicy}). */
  readonly sendRetry?: SendRetryPolicy;
}

export interface ConnectionEvents {
  /** New bytes can be read. */
  readable: [];
  /** The peer closed and everything it sent has been read. */
  end: [];
  /** The send queue fell below its high-water mark. */
  drain: [];
  /** The connection failed: every pending operation rejects with this error. */
  error: [error: Error];
  /** The client id is free again. */
  close: [];
  /**
   * Something the application should know that does not stop the connection: `FLOW_CONTROL_UNAVAILABLE` when the
   * module refused to pause push mode for a slow reader. Unheard, it goes to `process.emitWarning`.
   */
  warning: [warning: QuectelError];
}

interface Pending { readonly resolve: () => void; readonly reject: (e: Error) => void }

export class Connection extends EventEmitter<ConnectionEvents> {
  /** `open`: usable; `closing`: close requested, queued data still going out; `closed`: the id is free. */
  state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  /** The peer closed its side (`"closed"` URC); what it sent stays readable. */
  peerClosed = false;
  /** Why the connection failed, once it has. */
  failure: Error | undefined;
  /** Bytes sent and accepted by the module, and bytes read from it. */
  sent = 0;
  received = 0;
  /** Times push mode was paused for a slow reader (switched to buffer mode, see the file's comment). */
  pushPauses = 0;

  private readonly rx: Buffer[] = [];
  private rxBytes = 0;
  private readonly tx: Buffer[] = [];
  private txBytes = 0;
  /** Position, counted over every byte ever queued, of the first byte in `tx`. */
  private txStart = 0;
  private flushWaiters: Pending[] = [];
  private drainWanted = false;
  /** The last read stopped at the rx bound, not at an empty module buffer. */
  private moduleMayHoldMore = false;
  private working = false;
  private interest = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private closeMode: 'graceful' | 'abort' | undefined;
  /** Whether the module pushes this connection's bytes now: push mode not paused, as of the last switch's `OK`. */
  private pushing: boolean;
  /** The module refused `AT+QISWTMD` for this connection: no more switching, it stays in the mode it is in. */
  private switchRefused = false;
  private readonly family: ConnectionFamily;
  private readonly maxBuffered: number;
  private readonly highWater: number;

  constructor(
    private readonly host: ServiceHost,
    readonly id: number,
    readonly kind: ConnectionKind,
    readonly receive: ReceiveMode,
    /** Frees the client id in the service's table. */
    private readonly release: (c: Connection) => void,
    private readonly tuning: ConnectionTuning = {},
  ) {
    super();
    this.family = FAMILIES[kind];
    this.maxBuffered = tuning.maxBuffered ?? 65_536;
    this.highWater = tuning.sendHighWater ?? 16_384;
    this.pushing = receive === 'push';
    this.on('error', () => {}); // a failure is also seen by every pending operation; an unheard event must not crash
  }

  /** Whether received bytes come inside the URC now (direct push, not paused for a slow reader). */
  get push(): boolean {
    return this.pushing;
  }

  /** How the module hands over received bytes now: {@link receive}, or `'buffer'` while push mode is paused. */
  get accessMode(): ReceiveMode {
    return this.receive === 'push' && !this.pushing ? 'buffer' : this.receive;
  }

  /** Whether the module keeps this connection's bytes for `AT+QSSLRECV` now. */
  private get reads(): boolean {
    return this.receive === 'buffer' || (this.receive === 'push' && !this.pushing);
  }

  /** Half the bound: below it, what the module kept while rx was full is read (and push mode resumed). */
  private get lowWater(): number {
    return this.maxBuffered / 2;
  }

  /** The port in data mode, for a transparent connection while it is open. */
  private channel: DataChannel | undefined;

  /** Bytes that can be read now. */
  get readableLength(): number {
    return this.rxBytes;
  }

  /** Bytes queued and not yet accepted by the module. */
  get writableLength(): number {
    return this.txBytes;
  }

  /** Whether everything the peer will ever send has been read (or the connection is gone). */
  get ended(): boolean {
    return this.rxBytes === 0 && (this.state === 'closed' || (this.peerClosed && !this.drainWanted && !this.moduleMayHoldMore));
  }

  // ------------------------------------------------------------------ application side

  /**
   * Queues bytes for the peer; false when the queue is past its high-water mark (wait for `'drain'`).
   * @throws QuectelError `SOCKET_CLOSED` after close or once the peer closed, or the connection's failure.
   */
  enqueue(data: Uint8Array): boolean {
    if (this.failure) throw this.failure;
    if (this.state !== 'open' || this.closeMode) throw new QuectelError('SOCKET_CLOSED', `connection ${this.id} is closed`, { id: this.id });
    if (this.peerClosed) throw new QuectelError('SOCKET_CLOSED', `the peer closed connection ${this.id}`, { id: this.id, reason: 'peer' });
    if (this.sendRefused) throw this.sendRefused;
    if (data.length > 0) {
      this.tx.push(Buffer.from(data));
      this.txBytes += data.length;
      this.wake();
    }
    const room = this.txBytes < this.highWater;
    if (!room) this.writerWaiting = true;
    return room;
  }

  /** `enqueue` told a writer to wait for `'drain'` and none came since. */
  private writerWaiting = false;

  /** Position just past the last byte queued, counted over every byte ever queued (see {@link withdraw}). */
  get queuedEnd(): number {
    return this.txStart + this.txBytes;
  }

  /**
   * Takes back the queued bytes at positions `from` to `to` (from {@link queuedEnd}) that the module has not been
   * handed yet: a writer that gave up. The send in flight is never touched. Returns how many were taken back.
   */
  withdraw(from: number, to: number): number {
    const lo = Math.max(from, this.txStart + this.sending) - this.txStart;
    const hi = Math.min(to, this.txStart + this.txBytes) - this.txStart;
    if (hi <= lo) return 0;
    const all = Buffer.concat(this.tx, this.txBytes);
    this.tx.length = 0;
    if (lo > 0) this.tx.push(all.subarray(0, lo));
    if (hi < all.length) this.tx.push(all.subarray(hi));
    this.txBytes -= hi - lo;
    if (this.txBytes === 0) for (const w of this.flushWaiters.splice(0)) w.resolve();
    if (this.txBytes < this.highWater) this.emit('drain');
    return hi - lo;
  }

  /** Resolves once everything queued so far was accepted by the module (`SEND OK`); rejects if it cannot be. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.sendRefused) return Promise.reject(this.sendRefused);
    if (this.txBytes === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /** Takes up to `max` buffered bytes (none: an empty buffer). */
  read(max = Number.POSITIVE_INFINITY): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < max && this.rx.length > 0) {
      const head = this.rx[0]!;
      if (head.length <= max - n) {
        parts.push(head);
        this.rx.shift();
        n += head.length;
      } else {
        parts.push(head.subarray(0, max - n));
        this.rx[0] = head.subarray(max - n);
        n = max;
      }
    }
    this.rxBytes -= n;
    // Below half the bound again: what the module kept while the buffer was full can come now (and push resume).
    if ((this.moduleMayHoldMore || this.resumeDue) && this.rxBytes <= this.lowWater) {
      this.drainWanted = true;
      this.wake();
    }
    // 'end' on the next tick, never inside the call: a reader that is handed the last bytes and hears 'end' before
    // it has them would end its own stream first and drop them (as a Node stream, which also defers it).
    if (this.ended) process.nextTick(() => this.maybeEnd());
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Puts bytes taken by {@link read} back in front (a reader that took more than a line). */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.rx.unshift(Buffer.from(bytes));
    this.rxBytes += bytes.length;
  }

  /** Someone waits for data (a blocked read, a flowing stream): polls as a safety net while none comes. */
  want(on: boolean): void {
    this.interest = Math.max(0, this.interest + (on ? 1 : -1));
    this.armPoll();
  }

  /**
   * Closes the connection. `graceful` sends what is queued first and lets the module end the session
   * (`AT+QSSLCLOSE=<id>`); `abort` drops the queue and closes at once (`…,0`). Resolves when the id is free.
   */
  async close(mode: 'graceful' | 'abort' = 'graceful'): Promise<void> {
    if (this.state === 'closed') return;
    if (this.closeMode !== 'abort') this.closeMode = mode;
    if (mode === 'abort') {
      // The queue goes (a send on the line still gets its answer, see consume); one waiting for room is given up.
      this.dropQueue(new QuectelError('SOCKET_CLOSED', `connection ${this.id} was closed`, { id: this.id }));
      this.retryWait?.();
    }
    // Nobody reads after close(): what the module still pushes is not kept.
    this.rx.length = 0;
    this.rxBytes = 0;
    this.state = 'closing';
    this.wake();
    if ((this.state as Connection['state']) !== 'closed') await new Promise<void>((resolve) => this.once('close', resolve));
  }

  // ------------------------------------------------------------------ module side (signals only)

  /** `+QSSLURC: "recv",<id>` (buffer mode) or pushed data (direct push, §5.1). */
  onRecvUrc(pushed?: Uint8Array): void {
    // Transparent: a recv URC can come only after the escape of a close, for bytes nobody will read.
    if (this.state === 'closed' || this.receive === 'transparent') return;
    if (pushed) return this.take(Buffer.from(pushed));
    this.drainWanted = true;
    this.wake();
  }

  /** `+QSSLURC: "closed",<id>`: the peer closed or the link broke; the data the module holds stays readable. */
  onClosedUrc(): void {
    if (this.state === 'closed' || this.peerClosed) return;
    this.peerClosed = true;
    this.drainWanted = this.reads;
    // The send in flight may well have been taken (its SEND OK can sit in the same read as this URC, resolving
    // a moment later): its outcome decides for its bytes. Only what was queued behind it can no longer go out.
    const behind = this.txBytes - this.sending;
    if (behind > 0 || this.sending === 0) {
      this.dropQueue(new QuectelError('SOCKET_CLOSED', `the peer closed connection ${this.id} before the data was sent`, { id: this.id, reason: 'peer' }), this.sending);
    }
    this.retryWait?.();
    this.wake();
  }

  /**
   * The module restarted, the port or the PDP context was lost: the id no longer exists on the module. `quiet`
   * when the application itself closed the modem: pending operations still fail, but no `'error'` is emitted.
   */
  lost(why: string, quiet = false): void {
    if (this.state === 'closed') return;
    const error = new QuectelError('SOCKET_LOST', `connection ${this.id} is gone: ${why}`, { id: this.id });
    if (quiet) {
      this.closedByApplication = true;
      this.failure ??= error;
      this.dropQueue(error);
    } else this.fail(error);
    this.finishClose();
  }

  /** The application closed the modem under this connection (see {@link lost}). */
  closedByApplication = false;

  /** The open succeeded: start working (unless the connection was lost meanwhile). */
  opened(): void {
    if (this.state !== 'opening') return;
    this.state = 'open';
    this.everOpened = true;
    this.wake();
  }

  /** It was open once: its id is the service's to free when it closes (before that, the opener's). */
  everOpened = false;

  /**
   * A transparent open answered `CONNECT`: the connection's bytes come from `channel`, queued ones go to it, and
   * the end of data mode is the peer's close (`NO CARRIER`), a restart or the port's loss.
   */
  openedTransparent(channel: DataChannel): void {
    if (this.state !== 'opening') return;
    this.channel = channel;
    channel.onData((chunk) => this.take(Buffer.from(chunk)));
    void channel.ended.then((reason) => {
      if (this.state === 'closed') return;
      if (reason === 'no-carrier') return this.onClosedUrc();
      if (reason === 'reset') return this.lost('the module restarted in data mode');
      if (reason === 'closed') return this.lost('the port closed in data mode');
      // An escape nobody answered: where the stream stands is not known; the engine resynchronises.
      if (reason === 'lost') this.fail(new QuectelError('SOCKET_LOST', `connection ${this.id}: the module did not answer the escape (+++)`, { id: this.id }));
      // 'escaped' (a close under way) and 'lost': the worker closes the id.
      this.wake();
    });
    this.opened();
  }

  // ------------------------------------------------------------------ the worker

  private wake(): void {
    // A wake while the worker runs is not lost: the worker may already be past the check that would have seen it.
    if (this.working) {
      this.wokenWhileWorking = true;
      return;
    }
    this.working = true;
    this.wokenWhileWorking = false;
    // Started on the next microtask, so writes made in one go are sent together in full chunks.
    void Promise.resolve().then(() => this.work()).finally(() => {
      this.working = false;
      if (this.wokenWhileWorking && this.state !== 'closed') this.wake();
      else this.armPoll();
    });
  }

  private wokenWhileWorking = false;

  private async work(): Promise<void> {
    if (this.channel) return this.workTransparent(this.channel);
    while (this.state === 'open' || this.state === 'closing') {
      // Once the application closed the connection nobody can read what the module still holds: it goes with the id.
      const wantRead = this.reads && this.rxBytes < this.maxBuffered && this.closeMode === undefined &&
        (this.drainWanted || (this.moduleMayHoldMore && this.rxBytes <= this.lowWater));
      const wantSend = this.txBytes > 0 && !this.peerClosed && this.closeMode !== 'abort' && !this.sendRefused;
      try {
        // First: every push URC more is appended whatever the reader does.
        if (this.pauseDue || this.repauseDue) {
          this.repauseDue = false;
          await this.switchMode(0);
          continue;
        }
        if (wantRead) await this.drainOnce();
        if (wantSend && (this.state === 'open' || this.state === 'closing')) await this.sendOnce();
        if (wantRead || wantSend) continue;
        if (this.resumeDue) {
          await this.switchMode(1);
          continue;
        }
        // Nothing to move: a peer that closed and was drained, or a close the application asked for, ends here.
        if (this.closeMode || (this.peerClosed && !this.moduleMayHoldMore && !this.drainWanted)) await this.closeOnModule();
        return;
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        await this.closeOnModule().catch(() => this.finishClose());
        return;
      }
    }
  }

  /** The worker of a transparent connection: writes to the port, then on close leaves data mode and frees the id. */
  private async workTransparent(channel: DataChannel): Promise<void> {
    while (this.state === 'open' || this.state === 'closing') {
      const inData = channel.state === 'data';
      try {
        if (this.txBytes > 0 && !this.peerClosed && this.closeMode !== 'abort' && inData) {
          await this.writeOnce(channel);
          continue;
        }
        if (!this.closeMode && !this.peerClosed && channel.state !== 'ended') return;
        // Closing, or the peer closed (NO CARRIER): the port back in command mode first, then the id.
        await channel.escape();
        await this.closeOnModule();
        return;
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        await channel.escape().catch(() => undefined);
        await this.closeOnModule().catch(() => this.finishClose());
        return;
      }
    }
  }

  /** Up to {@link TRANSPARENT_WRITE} queued bytes to the port; resolves once the port took them. */
  private async writeOnce(channel: DataChannel): Promise<void> {
    const chunk = this.peek(TRANSPARENT_WRITE);
    this.sending = chunk.length;
    try {
      await channel.write(chunk);
    } catch (e) {
      // NO CARRIER came first: the peer is gone, so the bytes are too.
      if (isQuectelError(e, 'AT_DATA_MODE_ENDED')) {
        throw new QuectelError('SOCKET_CLOSED', `the peer closed connection ${this.id} before the data was sent`, { id: this.id, reason: 'peer' }, { cause: e });
      }
      throw e;
    } finally {
      this.sending = 0;
    }
    this.delivered(chunk.length);
  }

  /** The first `n` queued bytes went to the module: off the queue, counted, and writers and flushers told. */
  private delivered(n: number): void {
    this.consume(n);
    this.sent += n;
    if (this.txBytes < this.highWater) {
      this.writerWaiting = false;
      this.emit('drain');
    }
    if (this.txBytes === 0) for (const w of this.flushWaiters.splice(0)) w.resolve();
  }

  /** Push mode at its bound: time to switch the module to buffer mode. */
  private get pauseDue(): boolean {
    return this.receive === 'push' && this.pushing && !this.switchRefused && this.state === 'open' && !this.peerClosed &&
      this.closeMode === undefined && this.rxBytes >= this.maxBuffered;
  }

  /** Push mode paused, the reader caught up (below half the bound) and the module read empty: time to push again. */
  private get resumeDue(): boolean {
    return this.receive === 'push' && !this.pushing && !this.switchRefused && this.state === 'open' && !this.peerClosed &&
      this.closeMode === undefined && !this.drainWanted && !this.moduleMayHoldMore && this.rxBytes <= this.lowWater;
  }

  /**
   * `AT+QISWTMD=<id>,<0|1>` (quectel-at.md §5.2). The framing changes at its `OK`, before the next byte is read. To
   * buffer mode the module may hold bytes from then on: they are read once the reader is below half the bound, as in
   * buffer mode. `ERROR` leaves the mode as it is for good: still pushing, said once by a `'warning'` (unless the
   * connection is closing anyway: the peer closed, 567); still in buffer mode, which works, only slower.
   * @throws the engine's codes other than `AT_ERROR`/`AT_CME_ERROR` (a timeout, a restart): the connection fails.
   */
  private async switchMode(mode: 0 | 1): Promise<void> {
    const onOk = (): void => {
      this.pushing = mode === 1;
      if (mode === 1) {
        // The peer's close came while the switch was on its way: what the module kept is pushed from here on, and
        // a read is refused in push mode, so nothing is left to read with AT+QSSLRECV.
        if (this.peerClosed) {
          // The module may now push what it held, but only while the id lives: back to buffer mode, to read it all.
          this.drainWanted = false;
          this.repauseDue = true;
        }
        return;
      }
      this.pushPauses++;
      this.moduleMayHoldMore = true;
      this.drainWanted = false;
    };
    try {
      await this.host.send(`AT+QISWTMD=${this.id},${mode}`, { onOk, qiErrorDetail: true });
    } catch (e) {
      if (!isQuectelError(e, 'AT_ERROR') && !isQuectelError(e, 'AT_CME_ERROR')) throw e;
      this.switchRefused = true;
      if (mode === 1 || this.peerClosed || e.context.qiError === 567 || this.state !== 'open') return;
      const warning = new QuectelError('FLOW_CONTROL_UNAVAILABLE',
        `connection ${this.id}: the module refused AT+QISWTMD=${this.id},0 (${e.message}), so push mode cannot pause for a slow ` +
        `reader: what the peer sends is kept on the host however much it is. Read faster, or use receive: 'buffer'`,
        { id: this.id, ...(typeof e.context.qiError === 'number' ? { moduleError: e.context.qiError } : {}) }, { cause: e });
      if (!this.emit('warning', warning)) process.emitWarning(warning.message, { code: warning.code });
    }
  }

  /** One `AT+QSSLRECV=<id>,1500`; an empty answer means the module holds nothing more. */
  private async drainOnce(): Promise<void> {
    const r = await this.host.send(`${this.family.recv}=${this.id},${MAX_READ}`).catch((e: unknown) => {
      // The id is gone on the module (closed and freed): nothing more to read.
      if (isQuectelError(e, 'AT_ERROR') && this.peerClosed) return undefined;
      throw e;
    });
    const data = r ? Buffer.from(r.data) : Buffer.alloc(0);
    if (data.length === 0) {
      this.drainWanted = false;
      this.moduleMayHoldMore = false;
      this.maybeEnd();
      return;
    }
    this.take(data);
    // Read on until the module says 0 (the URC is re-armed only then, T13), unless the buffer is full.
    this.moduleMayHoldMore = this.rxBytes >= this.maxBuffered;
    this.drainWanted = !this.moduleMayHoldMore;
  }

  /** One `AT+QSSLSEND=<id>,<n>` of up to 1460 queued bytes, joined from as many writes as it takes. */
  private async sendOnce(): Promise<void> {
    const chunk = this.peek(MAX_SEND);
    this.sending = chunk.length;
    let outcome: Awaited<ReturnType<Connection['sendChunk']>>;
    try {
      outcome = await this.sendChunk(chunk);
    } finally {
      this.sending = 0;
    }
    if (outcome === 'taken') return this.delivered(chunk.length);
    if (outcome === 'refused' && this.sendRefused) {
      // The URC saying the peer closed may not have come yet: nothing more can go, but what the peer sent stays
      // readable, and the connection ends when the module says closed (or the application closes it).
      this.dropQueue(this.sendRefused);
      this.drainWanted = this.reads;
      return;
    }
    // Given up while it waited for room (an abort, the peer's close): the queue goes, its waiters told why.
    const why = this.closeMode === 'abort'
      ? new QuectelError('SOCKET_CLOSED', `connection ${this.id} was closed`, { id: this.id })
      : new QuectelError('SOCKET_CLOSED', `the peer closed connection ${this.id} before the data was sent`, { id: this.id, reason: 'peer' });
    this.dropQueue(why);
  }

  /** Bytes of the send command in flight, at the head of the queue. */
  private sending = 0;

  /** Push mode came back just as the peer closed (see switchMode): back to buffer mode to read what the module holds. */
  private repauseDue = false;

  /** The module refused a send with `ERROR`: no more can go; reading goes on until the module says closed. */
  private sendRefused: QuectelError | undefined;

  /** When to send again after `SEND FAIL` (see SendRetry.ts). */
  private retry: SendRetry | undefined;

  /** Ends the wait for room in the module's send buffer now, if one runs (a close, the peer's close, a pause due). */
  private retryWait: (() => void) | undefined;

  /**
   * Waits `ms` for room in the module's send buffer, or less if something else must happen first: push mode at its
   * bound pauses the module meanwhile (and the wait goes on); an abort, the peer's close or a failure ends it.
   * @returns whether the send should still go (false: give its bytes up)
   * @throws the connection's failure, or SOCKET_CLOSED once the connection is closed
   */
  private async waitForRoom(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    for (;;) {
      // Checked before each sleep too: what ends the wait may have come while the refused send was on the line.
      if (this.failure) throw this.failure;
      if (this.state === 'closed') throw new QuectelError('SOCKET_CLOSED', `connection ${this.id} was closed while its send waited for room`, { id: this.id });
      if (this.closeMode === 'abort' || this.peerClosed) return false;
      if (this.pauseDue) {
        await this.switchMode(0);
        continue;
      }
      const left = until - performance.now();
      if (left <= 0) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.retryWait = done;
      });
      this.retryWait = undefined;
    }
  }

  /**
   * Sends one chunk, again after each `SEND FAIL` as the retry policy says.
   * @returns true once the module took it; false when it was given up while waiting for room
   */
  private async sendChunk(chunk: Buffer): Promise<'taken' | 'given-up' | 'refused'> {
    const retries = this.tuning.sendFailRetries ?? 100;
    const retry = (this.retry ??= new SendRetry(this.tuning.sendRetry));
    let wait = retry.beforeSend();
    for (let attempt = 0; ; attempt++) {
      if (wait > 0 && !(await this.waitForRoom(wait))) return 'given-up';
      try {
        await this.host.send(`${this.family.send}=${this.id},${chunk.length}`, { payload: chunk });
        retry.taken(attempt);
        return 'taken';
      } catch (e) {
        // SEND FAIL: the bytes were not taken (the module's buffer is full, §4.1); the same bytes may go again.
        if (isQuectelError(e, 'AT_SEND_FAIL') && attempt < retries) {
          wait = retry.refused(attempt);
          continue;
        }
        // ERROR: the module will not send on this connection (it is closing, most likely because the peer closed).
        if (isQuectelError(e, 'AT_ERROR') || isQuectelError(e, 'AT_CME_ERROR')) {
          this.sendRefused = new QuectelError('SOCKET_CLOSED', `connection ${this.id} refused the data: ${e.message}`, { id: this.id, reason: 'send' }, { cause: e });
          return 'refused';
        }
        // The buffer stayed full through every retry: the connection fails.
        if (isQuectelError(e, 'AT_SEND_FAIL')) {
          throw new QuectelError('SOCKET_CLOSED', `connection ${this.id}: the module's send buffer stayed full through ${retries} retries`, { id: this.id, reason: 'send' }, { cause: e });
        }
        // No answer, a restart, a lost port: whether the module took the bytes is unknown. Never send them twice.
        // A restart or a lost port also takes the connection with it: that is what the caller hears, whichever of the
        // two signals (this answer, the modem's socketsLost) comes first.
        const gone = ['TRANSPORT_CLOSED', 'AT_MODULE_RESET', 'MODEM_NO_PORT', 'MODEM_CLOSED'] as const;
        if (gone.some((code) => isQuectelError(e, code))) {
          throw new QuectelError('SOCKET_LOST', `connection ${this.id} is gone: ${(e as Error).message}; whether its last ${chunk.length}-byte send ` +
            'reached the module is unknown', { id: this.id, bytes: chunk.length }, { cause: e });
        }
        throw new QuectelError('SEND_OUTCOME_UNKNOWN', `connection ${this.id}: the outcome of a ${chunk.length}-byte send is unknown (${(e as Error).message})`,
          { id: this.id, bytes: chunk.length }, { cause: e });
      }
    }
  }

  private async closeOnModule(): Promise<void> {
    if (this.state === 'closed') return;
    const abort = this.closeMode === 'abort' || this.failure !== undefined;
    await this.host.send(`${this.family.close}=${this.id}${abort ? ',0' : ''}`, { timeoutMs: abort ? 5000 : 20_000 }).catch(() => undefined);
    this.finishClose();
  }

  private finishClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.pollTimer);
    this.retryWait?.();
    this.dropQueue(this.failure ?? new QuectelError('SOCKET_CLOSED', `connection ${this.id} was closed`, { id: this.id }));
    this.release(this);
    this.maybeEnd();
    this.emit('close');
  }

  // ------------------------------------------------------------------ buffers

  private take(data: Buffer): void {
    this.received += data.length;
    if (this.closeMode !== undefined) return; // closed by the application: nobody will read it
    this.rx.push(data);
    this.rxBytes += data.length;
    if (this.pauseDue) {
      // From a URC handler: a signal; the worker sends the switch (also from inside a wait for send room).
      this.retryWait?.();
      this.wake();
    }
    this.emit('readable');
  }

  private maybeEnd(): void {
    if (this.ended && !this.endEmitted) {
      this.endEmitted = true;
      this.emit('end');
    }
  }

  private endEmitted = false;

  private peek(max: number): Buffer {
    if (this.tx[0]!.length >= max) return this.tx[0]!.subarray(0, max);
    const parts: Buffer[] = [];
    let n = 0;
    for (const b of this.tx) {
      if (n >= max) break;
      parts.push(b.subarray(0, max - n));
      n += Math.min(b.length, max - n);
    }
    return Buffer.concat(parts, n);
  }

  private consume(count: number): void {
    // A send that completes after its queue was dropped (the connection closed under it) has nothing left to take.
    const n = Math.min(count, this.txBytes);
    let left = n;
    while (left > 0) {
      const head = this.tx[0]!;
      if (head.length <= left) {
        this.tx.shift();
        left -= head.length;
      } else {
        this.tx[0] = head.subarray(left);
        left = 0;
      }
    }
    this.txBytes -= n;
    this.txStart += n;
  }

  /** Drops what is queued (all but the first `keep` bytes, the send in flight) and fails whoever waits for it. */
  private dropQueue(error: Error, keep = 0): void {
    if (keep > 0 && this.txBytes > keep) {
      const head = this.peek(keep);
      this.tx.length = 0;
      this.tx.push(head);
      this.txBytes = keep;
    } else if (keep === 0) {
      this.tx.length = 0;
      this.txStart += this.txBytes;
      this.txBytes = 0;
    }
    for (const w of this.flushWaiters.splice(0)) w.reject(error);
    // A writer told to wait for room gets it, after the current call: its next write learns why (enqueue throws).
    if (this.writerWaiting && this.txBytes < this.highWater) {
      this.writerWaiting = false;
      process.nextTick(() => this.emit('drain'));
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.dropQueue(error);
    this.retryWait?.();
    this.emit('error', error);
  }

  /** The safety net: someone waits, nothing is buffered and nothing is being read: read anyway after a while. */
  private armPoll(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    if (this.interest === 0 || this.rxBytes > 0 || this.working || !this.reads || this.state !== 'open' || this.peerClosed) return;
    this.pollTimer = setTimeout(() => {
      this.drainWanted = true;
      this.wake();
    }, this.tuning.pollMs ?? 1000);
  }
}
