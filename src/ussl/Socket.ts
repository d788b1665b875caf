/**
 * `usocket.socket`: QuecPython's socket object, its methods returning promises (a ported script adds `await`).
 * Semantics follow QuecPython and MicroPython: errors are {@link OSError}s with an errno (timeout 110, would block
 * 11, not connected 107, already connecting 114, reset 104); `recv` returns empty bytes once the peer closed and
 * everything was read; I/O on a closed socket is `EBADF`.
 *
 * A socket is plain TCP until `ussl.wrap_socket` returns its TLS twin: then `connect` opens with `AT+QSSLOPEN`. The
 * module cannot put TLS on a TCP connection that is already open, so wrapping a connected socket closes it and
 * opens the same peer through TLS (quectel-at.md §2.5).
 */
import type { Duplex } from 'node:stream';
import { QuectelError } from '../errors.js';
import type { Connection } from '../modem/services/Connection.js';
import { hostName } from '../modem/services/DnsService.js';
import { errno, OSError, toOSError } from './OSError.js';
import { SocketStream } from './SocketStream.js';
import type { TlsPlan } from './tlsOptions.js';
import type { UsslSession } from './UsslSession.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_TCP_SER = 69;
export const TCP_CUSTOMIZE_PORT = 124;
export const SOL_SOCKET = 0xfff;
export const SO_REUSEADDR = 4;
export const TCP_KEEPALIVE = 9;

/** An address as QuecPython takes it: `[host, port]`. */
export type SocketAddress = readonly [host: string, port: number];
/** Bytes, or text sent as UTF-8 (QuecPython's `sock.write('GET / …')`). */
export type SocketData = Uint8Array | string;

/** Largest read size accepted: more is surely a mistake, not a buffer. */
const MAX_READ = 64 * 1024 * 1024;

type State = 'new' | 'connecting' | 'connected' | 'closed' | 'detached';

const bytesOf = (data: SocketData, what: string): Buffer => {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.length);
  throw new QuectelError('INVALID_ARGUMENT', `${what} takes bytes or a string, not ${typeof data}`);
};

function readSize(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_READ) {
    throw new QuectelError('INVALID_ARGUMENT', `${what}: the size must be an integer from 0 to ${MAX_READ}, got ${String(n)}`);
  }
  return n;
}

export class Socket {
  private state: State = 'new';
  private conn: Connection | undefined;
  private peer: SocketAddress | undefined;
  private timeoutS: number | null = null;
  private connecting: Promise<void> | undefined;
  private connectError: unknown;

  /** @internal Use `usocket.socket()`. */
  constructor(
    private readonly session: UsslSession,
    readonly family: number,
    readonly type: number,
    readonly proto: number,
    /** Set on the socket `wrap_socket` returns: connecting opens TLS. */
    readonly tls?: TlsPlan,
  ) {}

  /** The connection under the socket, once connected (module services, for the stream and the CLI). */
  get connection(): Connection | undefined {
    return this.conn;
  }

  /** The address connected to. */
  getpeername(): SocketAddress {
    if (!this.peer) throw new OSError(errno.ENOTCONN, 'the socket is not connected');
    return this.peer;
  }

  /**
   * Connects to `[host, port]`; a TLS socket opens with `AT+QSSLOPEN` (its `server_hostname`, when given, is the
   * address the module opens). A non-blocking socket raises `EINPROGRESS` and goes on connecting.
   * @throws OSError `EISCONN`, `EALREADY`, `EINPROGRESS`, `EBADF`, `ETIMEDOUT`, `ECONNREFUSED`, `ECONNABORTED` (TLS),
   *   `EAI_NONAME` (-2, DNS); QuectelError `INVALID_ARGUMENT` for a bad address (nothing sent).
   */
  async connect(address: SocketAddress): Promise<void> {
    this.usable('connect');
    if (!Array.isArray(address) || address.length !== 2) throw new QuectelError('INVALID_ARGUMENT', 'connect takes [host, port]');
    const [host, port] = address;
    hostName(host);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new QuectelError('INVALID_ARGUMENT', `port must be 1-65535, got ${String(port)}`);
    if (this.state === 'connected') throw new OSError(errno.EISCONN, 'the socket is already connected');
    if (this.state === 'connecting') throw new OSError(errno.EALREADY, 'a connect is already in progress');
    this.state = 'connecting';
    this.peer = [host, port];
    this.connectError = undefined;
    this.connecting = this.open(host, port);
    if (this.timeoutS === 0) {
      this.connecting.catch((e: unknown) => (this.connectError = e));
      throw new OSError(errno.EINPROGRESS, `connecting to ${host}:${port}`);
    }
    await this.connecting;
  }

  /**
   * @internal The socket is connected, or its connect failed; wrap_socket waits on it.
   * @throws OSError the error of a non-blocking connect that failed in the background.
   */
  async settled(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    if (this.state !== 'connected' && this.connectError !== undefined) throw toOSError(this.connectError, 'wrap_socket', false);
  }

  private async open(host: string, port: number): Promise<void> {
    const timer = this.timeoutS !== null && this.timeoutS > 0 ? AbortSignal.timeout(this.timeoutS * 1000) : undefined;
    try {
      if (this.tls) {
        const opened = await this.session.openTls(this.tls, this.tls.serverHostname ?? host, port, timer);
        this.conn = opened.connection;
      } else {
        this.conn = await this.session.modem.connections.open({ kind: 'tcp', host, port, ...(timer ? { signal: timer } : {}) });
      }
      if (this.state !== 'connecting') {
        await this.conn.close('abort'); // closed while connecting
        throw new OSError(errno.EBADF, 'the socket was closed while it connected');
      }
      this.state = 'connected';
    } catch (e) {
      if (this.state === 'connecting') this.state = 'new';
      if (timer?.aborted) throw new OSError(errno.ETIMEDOUT, `connecting to ${host}:${port} timed out`, { cause: e });
      throw this.explain(toOSError(e, `connect to ${host}:${port}`, this.tls !== undefined));
    }
  }

  /**
   * A refused TLS open says only 566, whatever went wrong (T15): say what was being checked, so the reader can tell
   * which it was; and for a client certificate with no CA, that some firmware needs one to send it (§2.5).
   */
  private explain(e: unknown): unknown {
    const tls = this.tls;
    if (!tls || !(e instanceof OSError) || e.errno !== errno.ECONNABORTED) return e;
    const s = tls.settings;
    const checks = s.seclevel === 0
      ? 'the server was not being verified (no cadata), so the handshake itself failed: the suites or versions both sides allow, or the server wanting a client certificate'
      : `the server's certificate is checked against cadata, for the host name the module was given${s.ignorelocaltime === 0 ? ', and its dates against the module clock' : ''}`;
    const needsCa = s.seclevel === 2 && !tls.files.some((f) => f.kind === 'ca');
    const hint = needsCa ? '; this firmware may need a CA to send a client certificate: pass cadata' : '';
    return new OSError(e.errno, `${e.args[1]}: the module reports 566 for every handshake or certificate failure; ${checks}${hint}`, { cause: e.cause });
  }

  /**
   * Sends all of `data` and resolves with its length once the module took it (`SEND OK`); a non-blocking socket
   * only queues it. Writes are joined into 1460-byte sends while data is queued.
   */
  async send(data: SocketData): Promise<number> {
    const bytes = bytesOf(data, 'send');
    const conn = this.connected('send');
    const start = conn.queuedEnd;
    try {
      conn.enqueue(bytes);
      if (this.timeoutS !== 0) await this.within(conn.flush(), 'send');
    } catch (e) {
      if (e instanceof OSError && e.errno === errno.ETIMEDOUT) {
        // What the module has not been handed yet is taken back, so nothing goes out after the caller gave up.
        const withdrawn = conn.withdraw(start, start + bytes.length);
        const gone = bytes.length - withdrawn;
        throw new OSError(errno.ETIMEDOUT, `send timed out after ${this.timeoutS} s: ${withdrawn} of ${bytes.length} bytes were withdrawn`
          + (gone > 0 ? `; ${gone} had been handed to the module and may reach the peer` : ''));
      }
      throw toOSError(e, 'send', this.tls !== undefined);
    }
    return bytes.length;
  }

  /** Sends all of `data`. */
  async sendall(data: SocketData): Promise<void> {
    await this.send(data);
  }

  /** MicroPython's stream `write`: as {@link send}. */
  write(data: SocketData): Promise<number> {
    return this.send(data);
  }

  /**
   * Up to `bufsize` bytes: what is buffered, else waits for some. Empty bytes once the peer closed and all was read.
   * @throws OSError `ETIMEDOUT` (110) when the timeout passes, `EAGAIN` (11) on a non-blocking socket with nothing
   *   to read, `ENOTCONN`, `EBADF`, `ECONNRESET`.
   */
  async recv(bufsize: number): Promise<Buffer> {
    const n = readSize(bufsize, 'recv');
    const conn = this.connected('recv');
    if (n === 0) return Buffer.alloc(0);
    const deadline = this.timeoutS !== null && this.timeoutS > 0 ? Date.now() + this.timeoutS * 1000 : undefined;
    // Another reader may take what woke this one: wait again rather than mistake an empty buffer for the end.
    while (conn.readableLength === 0 && !conn.ended) {
      if (conn.failure) throw toOSError(conn.failure, 'recv', this.tls !== undefined);
      if (this.timeoutS === 0) throw new OSError(errno.EAGAIN, 'no data yet on a non-blocking socket');
      if (this.state !== 'connected') throw new OSError(errno.EBADF, 'the socket was closed while recv waited');
      await this.waitReadable(conn, deadline);
    }
    if ((this.state as State) !== 'connected') throw new OSError(errno.EBADF, 'the socket was closed while recv waited');
    if (conn.readableLength === 0 && conn.failure && !conn.peerClosed) throw toOSError(conn.failure, 'recv', this.tls !== undefined);
    return conn.read(n);
  }

  /**
   * MicroPython's stream `read`: `size` bytes, fewer only at the end of the stream (or when the timeout passes
   * with some read); with no size, everything until the peer closes.
   */
  async read(size?: number): Promise<Buffer> {
    const want = size === undefined ? Number.POSITIVE_INFINITY : readSize(size, 'read');
    const parts: Buffer[] = [];
    let got = 0;
    while (got < want) {
      let chunk: Buffer;
      try {
        chunk = await this.recv(Math.min(want - got, MAX_READ));
      } catch (e) {
        if (got > 0 && e instanceof OSError && (e.errno === errno.ETIMEDOUT || e.errno === errno.EAGAIN)) break;
        throw e;
      }
      if (chunk.length === 0) break;
      parts.push(chunk);
      got += chunk.length;
    }
    return Buffer.concat(parts, got);
  }

  /** Reads into `buf` (up to `nbytes`, default its length) and resolves with the count. */
  async readinto(buf: Uint8Array, nbytes?: number): Promise<number> {
    if (!(buf instanceof Uint8Array)) throw new QuectelError('INVALID_ARGUMENT', 'readinto takes a Uint8Array');
    const n = nbytes === undefined ? buf.length : Math.min(readSize(nbytes, 'readinto'), buf.length);
    const data = await this.read(n);
    buf.set(data);
    return data.length;
  }

  /**
   * A line, with its `\n`; at the end of the stream what is left, possibly empty. When the wait for the rest of a
   * line fails (a timeout, `EAGAIN`), the part already read stays buffered for the next call.
   */
  async readline(): Promise<Buffer> {
    const conn = this.connected('readline');
    const parts: Buffer[] = [];
    try {
      for (;;) {
        if (conn.readableLength === 0) {
          const more = await this.recv(1);
          if (more.length === 0) break;
          parts.push(more);
          if (more[0] === 0x0a) break;
          continue;
        }
        const peek = conn.read();
        const lf = peek.indexOf(0x0a);
        if (lf < 0) {
          parts.push(peek);
          continue;
        }
        parts.push(peek.subarray(0, lf + 1));
        conn.unread(peek.subarray(lf + 1));
        break;
      }
    } catch (e) {
      conn.unread(Buffer.concat(parts));
      throw e;
    }
    return Buffer.concat(parts);
  }

  /**
   * Closes the socket: queued data goes out first, then the module closes the connection. Idempotent.
   */
  async close(): Promise<void> {
    const conn = this.conn;
    const was = this.state;
    this.state = 'closed';
    if (was === 'detached') return;
    await conn?.close('graceful');
  }

  /** Seconds a blocking call may take; `null` blocks, 0 is non-blocking. */
  settimeout(value: number | null): void {
    if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new QuectelError('INVALID_ARGUMENT', `settimeout takes null or a number of seconds >= 0, got ${String(value)}`);
    }
    this.timeoutS = value;
  }

  gettimeout(): number | null {
    return this.timeoutS;
  }

  /** `setblocking(false)` is `settimeout(0)`; `setblocking(true)` is `settimeout(null)`. */
  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  /** MicroPython returns the socket itself as its file: it has `read`, `readline`, `write` and `close`. */
  makefile(_mode = 'rb'): this {
    return this;
  }

  /**
   * QuecPython's `getsocketsta()`: 0 CLOSED, 2 SYN_SENT (connecting), 4 ESTABLISHED, 7 CLOSE_WAIT (the peer
   * closed, data may be left to read).
   */
  getsocketsta(): number {
    if (this.state === 'connecting') return 2;
    if (this.state !== 'connected' || !this.conn || this.conn.state === 'closed' && this.conn.readableLength === 0) return 0;
    return this.conn.peerClosed ? 7 : 4;
  }

  /**
   * A Node `Duplex` over the connection, with backpressure both ways; it takes over reading and writing (do not
   * call `recv` on the socket as well). It plugs into `https.request({ createConnection })` and mqtt.js.
   */
  stream(): Duplex {
    return new SocketStream(this.connected('stream'));
  }

  /**
   * @internal `wrap_socket` claims the socket before its first await, so two wraps of one socket cannot both go on.
   * @throws QuectelError `INVALID_ARGUMENT` when it is already claimed.
   */
  claim(): void {
    if (this.claimed) throw new QuectelError('INVALID_ARGUMENT', 'the socket is already being wrapped: a socket is wrapped once');
    this.claimed = true;
  }

  private claimed = false;

  /** @internal `wrap_socket` takes the socket over: the old object is no longer usable. */
  detach(): { readonly peer: SocketAddress | undefined; readonly connection: Connection | undefined; readonly state: State } {
    const out = { peer: this.peer, connection: this.conn, state: this.state };
    this.state = 'detached';
    return out;
  }

  /** @internal The state, for wrap_socket. */
  get status(): State {
    return this.state;
  }

  private usable(what: string): void {
    if (this.state === 'closed') throw new OSError(errno.EBADF, `${what} on a closed socket`);
    if (this.state === 'detached') throw new OSError(errno.EBADF, `${what} on a socket that wrap_socket took over: use the socket it returned`);
  }

  private connected(what: string): Connection {
    this.usable(what);
    // A non-blocking connect that failed in the background: its error is the answer, as SO_ERROR gives it.
    if (this.state !== 'connected' && this.connectError !== undefined) throw toOSError(this.connectError, what, this.tls !== undefined);
    if (this.state !== 'connected' || !this.conn) throw new OSError(errno.ENOTCONN, `${what} on a socket that is not connected`);
    if (this.conn.state === 'closed' && this.conn.failure && this.conn.readableLength === 0) {
      throw toOSError(this.conn.failure, what, this.tls !== undefined);
    }
    return this.conn;
  }

  /** Waits until `conn` has news (data, its end, a failure), or rejects with `ETIMEDOUT` at `deadline`. */
  private async waitReadable(conn: Connection, deadline: number | undefined): Promise<void> {
    const events = ['readable', 'end', 'close', 'error'] as const;
    let wake = () => {};
    let timer: NodeJS.Timeout | undefined;
    conn.want(true);
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        for (const e of events) conn.on(e, wake);
        if (deadline !== undefined) {
          timer = setTimeout(() => reject(new OSError(errno.ETIMEDOUT, `recv timed out after ${this.timeoutS} s`)), Math.max(0, deadline - Date.now()));
        }
      });
    } finally {
      clearTimeout(timer);
      for (const e of events) conn.off(e, wake);
      conn.want(false);
    }
  }

  /** Waits for `work` within the socket's timeout. */
  private async within<T>(work: Promise<T>, what: string): Promise<T> {
    if (this.timeoutS === null || this.timeoutS === 0) return work;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OSError(errno.ETIMEDOUT, `${what} timed out after ${this.timeoutS} s`)), this.timeoutS! * 1000);
    });
    try {
      return await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
    }
  }
}
