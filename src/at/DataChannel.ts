/**
 * The port in transparent data mode (quectel-at.md §5.2): after `CONNECT` of `AT+QSSLOPEN=…,2`, `AT+QIOPEN=…,2`,
 * `AT+QISWTMD=<id>,2` or `ATO`, every byte on the line is one connection's, both ways, until
 *
 *   - the host escapes: no input for the guard time, `+++`, no input for the guard time again; the module answers
 *     `OK` and is in command mode, the connection in buffer mode ({@link DataChannel.escape});
 *   - the peer closes or the link breaks: the module says `NO CARRIER` and is in command mode;
 *   - the module restarts (`RDY`), or the port closes.
 *
 * The engine owns the line: it hands the channel the connection's bytes, finds the result codes that end data mode
 * (they come in band, see AtFramer's raw mode) and runs the escape. The channel writes the application's bytes and
 * keeps them from ever forming an escape by accident: a write of nothing but one to three `+` after the line was
 * quiet would, if nothing followed it for the guard time, be the escape itself (see {@link DataChannel.write}).
 */
import { QuectelError } from '../errors.js';

/** Why transparent data mode ended. */
export type DataModeEnd =
  /** A guarded `+++` was answered `OK`: command mode; the connection is open, in buffer mode. */
  | 'escaped'
  /** `NO CARRIER`: the peer closed or the link broke. The client id waits for its close command. */
  | 'no-carrier'
  /** `RDY`: the module restarted; the connection is gone. */
  | 'reset'
  /** The port closed. */
  | 'closed'
  /** An escape went unanswered: where the module is is not known, so the engine resynchronises before anything else. */
  | 'lost';

/** What the engine gives a channel. */
export interface DataChannelIo {
  write(bytes: Uint8Array): Promise<void>;
  escape(channel: DataChannel): Promise<void>;
}

const PLUS = 0x2b;

export class DataChannel {
  private receiver: ((chunk: Uint8Array) => void) | undefined;
  private early: Uint8Array[] = [];
  private chain: Promise<void> = Promise.resolve();
  private endReason: DataModeEnd | undefined;
  private resolveEnded!: (reason: DataModeEnd) => void;
  private escaping: Promise<void> | undefined;
  /** Resolves with the reason once data mode ended; the port is in command mode again (or gone). */
  readonly ended: Promise<DataModeEnd>;
  /** When the last write was issued (`performance.now()`): the line is quiet at most since then. */
  lastWriteAt: number;
  /** Bytes received and written in data mode. */
  received = 0;
  written = 0;

  /** @internal Made by the engine at `CONNECT`. */
  constructor(
    private readonly io: DataChannelIo,
    /** The command whose `CONNECT` opened it. */
    readonly command: string,
    /** The escape guard time the module keeps (quectel-at.md §5.2: 1 s). */
    readonly guardMs: number,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.lastWriteAt = performance.now();
  }

  /** `data` while bytes pass, `escaping` while an escape is under way, `ended` once the port is in command mode. */
  get state(): 'data' | 'escaping' | 'ended' {
    return this.endReason !== undefined ? 'ended' : this.escaping ? 'escaping' : 'data';
  }

  /** Why data mode ended, once it has. */
  get endedBy(): DataModeEnd | undefined {
    return this.endReason;
  }

  /**
   * Receives the connection's bytes, in order; bytes that arrived before (right after `CONNECT`) are handed over
   * at once. One receiver: a second call replaces the first.
   */
  onData(receiver: (chunk: Uint8Array) => void): void {
    this.receiver = receiver;
    const early = this.early;
    this.early = [];
    for (const chunk of early) receiver(chunk);
  }

  /**
   * Writes bytes to the connection, in call order; resolves once the port took them.
   *
   * The module escapes on `+++` framed by silence (§5.2), so data could do it by accident: one to three `+` written
   * alone after the line was quiet, with nothing after them for the guard time. Such a write goes out one `+` at a
   * time, each more than a guard time after the one before: a `+` alone is data to the module once its guard time
   * passes, and no three arrive within one guard time. It costs up to three guard times, only in that case.
   * @throws QuectelError `AT_DATA_MODE_ENDED` once data mode ended or an escape began; the port's write errors.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'data') return Promise.reject(this.endedError());
    if (bytes.length === 0) return Promise.resolve();
    const copy = Uint8Array.prototype.slice.call(bytes);
    const run = this.chain.then(() => this.writeNow(copy));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every write made so far completed (or failed). */
  writesDone(): Promise<void> {
    return this.chain;
  }

  /**
   * Leaves data mode with a guarded `+++` (after the writes made so far): resolves once the port is in command mode,
   * whichever way data mode ended meanwhile. The connection stays open on the module, in buffer mode, until it is
   * closed or `ATO` returns to it.
   */
  escape(): Promise<void> {
    if (this.endReason !== undefined) return Promise.resolve();
    this.escaping ??= this.io.escape(this);
    return this.escaping;
  }

  /** @internal The engine delivers the connection's bytes. */
  deliver(chunk: Uint8Array): void {
    this.received += chunk.length;
    if (this.receiver) this.receiver(chunk);
    else this.early.push(chunk);
  }

  /** @internal The engine saw data mode end. */
  end(reason: DataModeEnd): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.resolveEnded(reason);
  }

  private async writeNow(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'data') throw this.endedError();
    let rest = bytes;
    while (rest.length > 0) {
      if (this.couldEscape(rest)) {
        await this.put(rest.subarray(0, 1));
        rest = rest.subarray(1);
        // The next byte reaches the module more than a guard time after this `+`: alone, it is data.
        await new Promise((r) => setTimeout(r, this.guardMs + Math.max(20, this.guardMs / 5)));
        if (this.state !== 'data' && rest.length > 0) throw this.endedError();
        continue;
      }
      await this.put(rest);
      rest = rest.subarray(rest.length);
    }
  }

  private async put(bytes: Uint8Array): Promise<void> {
    this.lastWriteAt = performance.now();
    this.written += bytes.length;
    await this.io.write(bytes);
  }

  /**
   * Whether `bytes`, written now, could be the module's escape: nothing but one to three `+`, after a quiet line.
   * Quiet is counted from when the last write was issued, which bounds the module's quiet time from above whatever
   * the buffers held; half a guard time leaves room for the line's own delays.
   */
  private couldEscape(bytes: Uint8Array): boolean {
    if (bytes.length > 3 || bytes.some((b) => b !== PLUS)) return false;
    return performance.now() - this.lastWriteAt >= this.guardMs / 2;
  }

  private endedError(): QuectelError {
    const why = this.endReason === undefined ? 'an escape (+++) is under way' : `data mode ended (${this.endReason})`;
    return new QuectelError('AT_DATA_MODE_ENDED', `${this.command}: ${why}; the bytes were not written`, { command: this.command });
  }
}
