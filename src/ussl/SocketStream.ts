/**
 * A Node `Duplex` over a module connection, with backpressure both ways: reading stops pulling from the module
 * when the stream's buffer is full (the connection then stops draining at its bound and the module keeps the rest),
 * and writing waits while the send queue is past its high-water mark. Writes are handed over together (`_writev`),
 * so the connection sends them as full 1460-byte chunks. It also answers the socket calls `http` and mqtt.js make
 * (`setTimeout`, `setNoDelay`, `setKeepAlive`, `ref`, `unref`), so it can stand where a socket is expected.
 *
 * Like `tls.connect`, it can be handed out before the connection is open: writes wait, and `'connect'` and
 * `'secureConnect'` (for TLS) come once it is; a failed open destroys the stream with the error.
 */
import { Duplex } from 'node:stream';
import type { Connection } from '../modem/services/Connection.js';
import { toOSError } from './OSError.js';

export class SocketStream extends Duplex {
  private conn: Connection | undefined;
  private readonly ready: Promise<Connection>;
  private wanting = false;
  private idle: { ms: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** Whether the connection is open (false while it is still being opened). */
  connecting: boolean;

  constructor(connection: Connection | Promise<Connection>) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.connecting = !(connection instanceof Promise);
    this.ready = Promise.resolve(connection);
    this.ready.then((c) => this.attach(c), (e: unknown) => {
      const error = toOSError(e, 'connect', true);
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private attach(conn: Connection): void {
    this.conn = conn;
    this.connecting = false;
    conn.on('readable', () => this.pull());
    conn.on('end', () => this.pull());
    conn.on('error', (e) => this.destroy(toOSError(e, 'stream', conn.kind === 'ssl') as Error));
    conn.on('close', () => {
      this.setWant(false);
      if (this.destroyed) return;
      // The application closed the modem: the stream ends like a socket destroyed by its owner, without an error.
      if (conn.closedByApplication) return void this.destroy();
      if (conn.failure) return void this.destroy(toOSError(conn.failure, 'stream', conn.kind === 'ssl') as Error);
      this.pull();
      // The id is free and everything it received is in the stream. With nothing left to read, the end is
      // delivered now, whether or not anyone reads (read(0) on an ended, empty stream emits 'end'), so the stream
      // ends its writable side too and closes, as a socket does; with data left, once that is read.
      if (this.readableLength === 0) this.read(0);
    });
    if (this.destroyed) return void conn.close('abort');
    this.emit('connect');
    if (conn.kind === 'ssl') this.emit('secureConnect');
    if (this.readableFlowing !== false && this.wantedBeforeOpen) this._read();
  }

  private wantedBeforeOpen = false;

  /** Bytes read from the module and accepted by it, like a socket's. */
  get bytesRead(): number {
    return this.conn?.received ?? 0;
  }

  get bytesWritten(): number {
    return this.conn?.sent ?? 0;
  }

  override _read(): void {
    if (!this.conn) {
      this.wantedBeforeOpen = true;
      return;
    }
    this.reading = true;
    this.setWant(true);
    this.pull();
  }

  /** The stream asked for data and has not said it is full since. */
  private reading = false;

  /**
   * Moves bytes from the connection into the stream, only while the stream asked for more (`_read`): once its
   * buffer is full, they stay in the connection, which stops reading the module at its bound.
   */
  private pull(): void {
    const conn = this.conn;
    if (!conn) return;
    this.touch();
    while (this.reading && conn.readableLength > 0) {
      if (!this.push(conn.read())) {
        this.reading = false;
        this.setWant(false);
        return;
      }
    }
    if (conn.ended) {
      this.setWant(false);
      this.push(null);
    }
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.ready.then((conn) => {
      this.touch();
      let room = true;
      for (const { chunk } of chunks) room = conn.enqueue(chunk);
      if (room) callback();
      else conn.once('drain', () => callback());
    }).catch((e: unknown) => callback(toOSError(e, 'write', this.conn?.kind === 'ssl') as Error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  /**
   * `end()`: what is queued goes out. The module cannot half-close a connection (`AT+QSSLCLOSE` ends both ways), so
   * the connection stays open for reading until the peer closes it (the usual answer to the end of a request) or
   * the stream is destroyed: closing it here would throw away a response still on its way.
   */
  override _final(callback: (error?: Error | null) => void): void {
    this.ready.then(async (conn) => {
      await conn.flush();
      if (this.readableEnded || conn.ended) await conn.close('graceful');
    }).then(() => callback(), (e: unknown) => callback(toOSError(e, 'end', this.conn?.kind === 'ssl') as Error));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.setWant(false);
    clearTimeout(this.idle?.timer);
    const conn = this.conn;
    if (!conn) return callback(error);
    conn.close('abort').then(() => callback(error), () => callback(error));
  }

  /** Like `net.Socket#setTimeout`: `'timeout'` after `ms` without traffic (0 turns it off). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    clearTimeout(this.idle?.timer);
    this.idle = ms > 0 ? { ms, timer: undefined } : undefined;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  /** Nagle is the module's business: accepted and ignored. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  private touch(): void {
    if (!this.idle || this.destroyed) return;
    clearTimeout(this.idle.timer);
    this.idle.timer = setTimeout(() => this.emit('timeout'), this.idle.ms);
  }

  private setWant(on: boolean): void {
    if (on === this.wanting || !this.conn) return;
    this.wanting = on;
    this.conn.want(on);
  }
}
