/**
 * A byte link to one module: the only thing the AT engine knows of hardware.
 *
 *   serial device ──┐
 *   socket://h:p ───┤
 *   rfc2217://h:p ──┼──▶ Transport ──'data'(Uint8Array)──▶ AT engine
 *   emulator:MODEL ─┘            ◀──write(Uint8Array)────
 *
 * Contract, the same for every implementation (test/transport/contract.test.ts runs it over all of them):
 * - A transport is single-use: once closed it stays closed; reconnecting means calling the factory again.
 * - `'data'` chunks are owned by the listener (copied out of any shared pool) and never empty.
 * - `write` resolves once the bytes were handed to the OS or the link (not when the module read them);
 *   it rejects with `TRANSPORT_CLOSED` after close.
 * - `'close'` is emitted exactly once, with the reason: `'closed'` for `close()` by us, `'disconnected'` when the
 *   device vanished or the peer hung up, `'error'` for any other failure (then `error` is set).
 */
import type { EventEmitter } from 'node:events';

/** Why a transport closed: `close()` by us, the device or peer went away, or another failure. */
export type TransportCloseReason = 'closed' | 'disconnected' | 'error';

/** The payload of a transport's `'close'` event. */
export interface TransportCloseEvent {
  readonly reason: TransportCloseReason;
  /** The failure, set when `reason` is `'error'`. */
  readonly error?: Error;
}

/** The events every transport emits, as typed tuples for `EventEmitter<TransportEvents>`. */
export interface TransportEvents {
  data: [chunk: Uint8Array];
  close: [event: TransportCloseEvent];
}

/** Modem-control lines a host drives: DTR (many modules wake or hang up on it) and RTS. `undefined` leaves one as is. */
export interface SerialSignals {
  readonly dtr?: boolean;
  readonly rts?: boolean;
}

/** A single-use byte link to one module; see the contract at the top of this file. */
export interface Transport extends EventEmitter<TransportEvents> {
  /** The URL the transport was opened from, for messages and logs. */
  readonly url: string;
  /** True from open until `close()` is called or the link goes away. */
  readonly isOpen: boolean;
  /** Sends bytes; resolves once they were handed to the OS or the link, rejects with `TRANSPORT_CLOSED` after close. */
  write(data: Uint8Array): Promise<void>;
  /**
   * Resolves once every byte written so far has left the host (`tcdrain` on a serial port), where the link can tell;
   * a raw TCP link to a serial server cannot, and has no `drain`.
   */
  drain?(): Promise<void>;
  /** Closes the link; resolves once `'close'` was emitted. Closing twice is harmless. */
  close(): Promise<void>;
  /** Changes the line speed where the link has one (a serial port, local or over RFC 2217). */
  setBaudRate?(baudRate: number): Promise<void>;
  /** Raises or drops DTR and RTS where the link has them (a serial port, local or over RFC 2217). */
  setSignals?(signals: SerialSignals): Promise<void>;
}

/** Opens a fresh transport each call; the AT engine holds a factory so a reconnect can open the link again. */
export type TransportFactory = () => Promise<Transport>;
