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
  /** Writes not yet confirmed, each with the function that fails it. */
  protected readonly pendingWrites = new Set<(error: QuectelError) => void>();

  constructor(readonly url: string) {
    super();
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
