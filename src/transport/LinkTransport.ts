/**
 * What the serial and TCP transports share: the close event, fired once with its reason, and the writes that must
 * fail with `TRANSPORT_CLOSED` when the link goes away before they were confirmed.
 */
import { EventEmitter } from 'node:events';
import { QuectelError } from '../errors.js';
import type { TransportCloseEvent, TransportCloseReason, TransportEvents } from './Transport.js';

/** The `TRANSPORT_CLOSED` error for `url`, with what closed it as the cause. */
export function closedError(url: string, cause?: unknown): QuectelError {
  return new QuectelError('TRANSPORT_CLOSED', `${url} is closed`, { url }, cause === undefined ? undefined : { cause });
}

export abstract class LinkTransport extends EventEmitter<TransportEvents> {
  /** Set once the close event has fired. */
  protected finished = false;
  /** Set once `close()` was called. */
  protected closeRequested = false;
  /** Writes not yet confirmed, each with the function that fails it. */
  protected readonly pendingWrites = new Set<(error: QuectelError) => void>();

  constructor(readonly url: string) {
    super();
  }

  abstract get isOpen(): boolean;

  /** Starts taking the link down; the subclass fires the close event through {@link finish} when it is down. */
  protected abstract tearDown(): void;

  /**
   * Closes the link; resolves once `'close'` was emitted. Writes not yet settled reject with `TRANSPORT_CLOSED`
   * at once: once the link is torn down nobody can tell whether their bytes went out (net even calls back without
   * error for writes a destroy cancelled, and serialport parks writes for a reopen that never comes). Closing twice
   * is harmless.
   */
  async close(): Promise<void> {
    if (this.finished) return;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    if (!this.closeRequested) {
      this.closeRequested = true;
      this.abandonPendingWrites(closedError(this.url));
      this.tearDown();
    }
    return closed;
  }

  /**
   * One write through `send`, settled once: resolved when `send` calls back without error, rejected with
   * `TRANSPORT_CLOSED` when the link closes first or `closedBy(error)` says the error is the link going away,
   * else with `TRANSPORT_WRITE_FAILED`.
   */
  protected trackedWrite(
    data: Uint8Array,
    send: (bytes: Buffer, done: (error?: Error | null) => void) => void,
    closedBy: (error: Error) => boolean,
  ): Promise<void> {
    if (!this.isOpen) return Promise.reject(closedError(this.url));
    if (data.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const abandon = (error: QuectelError): void => reject(error);
      this.pendingWrites.add(abandon);
      send(Buffer.from(data), (error) => {
        if (!this.pendingWrites.delete(abandon)) return;
        if (!error) resolve();
        else if (closedBy(error)) reject(closedError(this.url, error));
        else reject(new QuectelError('TRANSPORT_WRITE_FAILED', `write to ${this.url} failed: ${error.message}`, { url: this.url }, { cause: error }));
      });
    });
  }

  protected abandonPendingWrites(error: QuectelError): void {
    for (const abandon of this.pendingWrites) abandon(error);
    this.pendingWrites.clear();
  }

  /** Fires the close event once; unconfirmed writes fail first. */
  protected finish(reason: TransportCloseReason, error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.abandonPendingWrites(closedError(this.url, error));
    const event: TransportCloseEvent = reason === 'error' ? { reason, error } : { reason };
    this.emit('close', event);
  }
}
