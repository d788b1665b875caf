/**
 * A {@link Transport} over raw TCP (`socket://host:port`), for a module behind a serial server such as ser2net
 * or a remote emulator.
 */
import { connect, type Socket } from 'node:net';
import { QuectelError } from '../errors.js';
import { closedError, LinkTransport } from './LinkTransport.js';
import type { Transport } from './Transport.js';

/** How to open a {@link TcpTransport}. */
export interface TcpTransportOptions {
  /** Host name or address; an IPv6 address without brackets. */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
  /** Give up connecting after this many milliseconds. Default: 10000. */
  readonly connectTimeoutMs?: number;
  /** The URL reported as {@link Transport.url}. Default: `socket://host:port` (IPv6 in brackets). */
  readonly url?: string;
}

/** How long {@link TcpTransport.open} waits for the connection when the caller names no timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

// The peer or the network dropped the link: a disconnect, not a fault of ours.
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/** A TCP connection as a {@link Transport}, with Nagle off. Open it with {@link TcpTransport.open}. */
export class TcpTransport extends LinkTransport implements Transport {
  private readonly socket: Socket;
  private lastError: Error | undefined;

  private constructor(socket: Socket, url: string) {
    super(url);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (chunk.length === 0) return;
      // net hands out a fresh buffer per read today; copy only if one ever is a view into something shared.
      const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
      this.emit('data', owned ? chunk : Uint8Array.prototype.slice.call(chunk));
    });
    socket.on('error', (error: Error) => {
      this.lastError = error;
    });
    // allowHalfOpen is off, so the peer's FIN makes net end our side too and then emit 'close'.
    socket.on('close', () => this.onSocketClose());
  }

  /**
   * Connects to `host:port`.
   * @throws QuectelError `TRANSPORT_NOT_FOUND` when nothing listens there (connection refused) or the host name
   *   does not resolve, `TRANSPORT_BAD_OPTION` for a port out of range, `TRANSPORT_OPEN_FAILED` on a timeout or
   *   any other failure.
   */
  static async open(options: TcpTransportOptions): Promise<TcpTransport> {
    const { host, port } = options;
    const url = options.url ?? `socket://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new QuectelError('TRANSPORT_BAD_OPTION', `TCP port must be 1-65535, got ${String(port)}`, { url, option: 'port', value: port });
    }
    const socket = await connectTcp(host, port, options.connectTimeoutMs, url);
    return new TcpTransport(socket, url);
  }

  /** True from connect until `close()` is called or the connection drops. */
  get isOpen(): boolean {
    return !this.finished && !this.closeRequested && !this.socket.destroyed && this.socket.writable;
  }

  /**
   * Writes bytes; resolves once they were handed to the OS, in call order. The bytes are copied, so the caller
   * may reuse `data` at once.
   * @throws QuectelError `TRANSPORT_CLOSED` when the connection is closed or drops before the bytes went out,
   *   `TRANSPORT_WRITE_FAILED` for any other socket failure.
   */
  write(data: Uint8Array): Promise<void> {
    return this.trackedWrite(data, (bytes, done) => this.socket.write(bytes, done),
      (error) => this.finished || this.closeRequested || this.socket.destroyed || isDisconnectError(error));
  }


  protected tearDown(): void {
    this.socket.destroy();
  }

  private onSocketClose(): void {
    if (this.closeRequested) this.finish('closed');
    else if (this.lastError !== undefined && !isDisconnectError(this.lastError)) this.finish('error', this.lastError);
    else this.finish('disconnected', this.lastError);
  }

}

/**
 * A TCP connection to `host:port` with Nagle off (AT lines are small and latency-bound).
 * @throws QuectelError `TRANSPORT_NOT_FOUND` (refused, or the name does not resolve), `TRANSPORT_OPEN_FAILED`.
 */
export async function connectTcp(host: string, port: number, connectTimeoutMs: number | undefined, url: string): Promise<Socket> {
  const timeoutMs = connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const socket = connect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new QuectelError('TRANSPORT_OPEN_FAILED', `no TCP connection to ${host}:${port} within ${timeoutMs} ms`, { url, host, port, timeoutMs }));
    }, timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(mapConnectError(error, url, host, port));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    });
  });
  return socket;
}

/** Whether a socket error means the peer or the network dropped the link. */
export function isDisconnectError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return DISCONNECT_CODES.has(code) || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

function mapConnectError(error: Error, url: string, host: string, port: number): QuectelError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const context = { url, host, port, errno: code };
  if (code === 'ECONNREFUSED') {
    return new QuectelError('TRANSPORT_NOT_FOUND', `nothing listens on ${host}:${port} (connection refused)`, context, { cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME') {
    return new QuectelError('TRANSPORT_NOT_FOUND', `host name "${host}" does not resolve (${code})`, context, { cause: error });
  }
  if (code === 'EAI_AGAIN') {
    return new QuectelError('TRANSPORT_OPEN_FAILED', `looking up "${host}" failed for now; is the network up? (${code})`, context, { cause: error });
  }
  return new QuectelError('TRANSPORT_OPEN_FAILED', `cannot connect to ${host}:${port}: ${error.message}`, context, { cause: error });
}
