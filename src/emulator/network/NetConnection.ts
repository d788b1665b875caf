/**
 * One client connection of the virtual module (a `AT+QIOPEN` TCP socket or a `AT+QSSLOPEN` TLS session) over a
 * real `node:net`/`node:tls` socket: the module's receive buffer, its recv-URC edge trigger, its finite send buffer
 * and its states.
 */
import type { Socket } from 'node:net';
import { Pacer } from '../Pacer.js';

export type ConnService = 'TCP' | 'SSL';
/** `<socket_state>` of QISTATE/QSSLSTATE: 0 initial, 1 opening, 2 connected, 4 closing. */
export type ConnState = 1 | 2 | 4;
/** `<access_mode>`: 0 buffer, 1 direct push, 2 transparent (§5). */
export type AccessMode = 0 | 1 | 2;

/** What the module does when a connection has news; set by the command family that opened it. */
export interface ConnEvents {
  /** Buffer mode: data arrived while the URC was armed. */
  onData(conn: NetConnection): void;
  /** Push mode: the buffer holds bytes to push, as fast as the line takes them. */
  onPushable(conn: NetConnection): void;
  /** The peer closed or the link broke. */
  onClosed(conn: NetConnection): void;
  /** Transparent mode: bytes from the peer, for the port as they are. */
  onTransparent(conn: NetConnection, chunk: Buffer): void;
}

/**
 * A module keeps a bounded receive buffer; past it, TCP flow control holds the peer back. In push mode too: the
 * module pushes from this buffer only as fast as its UART takes the URCs [INFER: it cannot push faster than the line],
 * so a peer faster than the line fills it.
 */
const RX_HIGH_WATER = 64 * 1024;
/** Data per direct-push URC (§5.1: at most 1500). */
export const PUSH_CHUNK = 1500;

export interface NetConnectionInit {
  readonly id: number;
  readonly service: ConnService;
  readonly pdpContext: number;
  readonly sslContext: number;
  readonly host: string;
  readonly port: number;
  /** 0 buffer, 1 direct push, 2 transparent: how it was opened ({@link NetConnection.accessMode} is the current one). */
  readonly accessMode: AccessMode;
  readonly rearm: 'drained' | 'zero-read';
  /** Bytes the send buffer holds: a send that does not fit in what is left is refused (`SEND FAIL`). */
  readonly sendBufferBytes: number;
  /** The network takes sent bytes no faster than this many per second; undefined: as fast as the socket takes them. */
  readonly uplinkBytesPerSecond?: number;
}

export class NetConnection {
  state: ConnState = 1;
  remoteIp = '';
  localPort = 0;
  socket: Socket | undefined;
  /** Bytes sent and received, for `AT+QISEND=<id>,0` and `AT+QIRD=<id>,0`. */
  sent = 0;
  received = 0;
  read = 0;
  private rx: Buffer[] = [];
  private rxBytes = 0;
  private urcArmed = true;
  private events: ConnEvents | undefined;
  private readonly abort = new AbortController();
  /** Sent bytes on their way to the network at the uplink's pace, when it has one. */
  private uplink: Pacer | undefined;
  /** The access mode now: `+++` turns transparent into buffer mode, `AT+QISWTMD` and `ATO` change it (§5.2). */
  accessMode: AccessMode;
  /** Push mode: a loop is pushing the buffer out (one per connection). */
  pushing = false;
  /** Push mode: the peer closed while bytes were still to be pushed; the `"closed"` URC follows the last of them. */
  closedUrcDue = false;

  /** Aborts when the connection is destroyed: an open still under way gives up its socket and timers. */
  get abortSignal(): AbortSignal {
    return this.abort.signal;
  }

  constructor(readonly init: NetConnectionInit) {
    this.accessMode = init.accessMode;
  }

  get id(): number {
    return this.init.id;
  }

  get buffered(): number {
    return this.rxBytes;
  }

  /** Takes over a connected socket and starts reporting its data and close. */
  attach(socket: Socket, events: ConnEvents): void {
    this.socket = socket;
    this.events = events;
    this.state = 2;
    this.remoteIp = socket.remoteAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    const rate = this.init.uplinkBytesPerSecond;
    // A Pacer counts 10 bit times a byte: baud = bytes per second × 10.
    if (rate !== undefined) {
      this.uplink = new Pacer((chunk) => {
        if (!socket.destroyed) socket.write(chunk);
      }, { baud: rate * 10 });
    }
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('end', () => this.onSocketGone());
    socket.on('close', () => this.onSocketGone());
    socket.on('error', () => this.onSocketGone());
    // Gone already (the peer reset it while the module was still finishing the open).
    if (socket.destroyed) queueMicrotask(() => this.onSocketGone());
  }

  private onSocketData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.accessMode === 2) return this.events?.onTransparent(this, chunk);
    this.rx.push(chunk);
    this.rxBytes += chunk.length;
    if (this.rxBytes >= RX_HIGH_WATER) this.socket?.pause();
    if (this.accessMode === 1) return this.events?.onPushable(this);
    if (this.urcArmed) {
      this.urcArmed = false;
      this.events?.onData(this);
    }
  }

  private onSocketGone(): void {
    if (this.state !== 2) return;
    this.state = 4;
    this.events?.onClosed(this);
  }

  /** Takes up to `max` buffered bytes (`AT+QSSLRECV`/`AT+QIRD`). */
  take(max: number): Buffer {
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
    this.read += n;
    if (this.rxBytes < RX_HIGH_WATER && this.state === 2) this.socket?.resume();
    // Documented QIRD rule (§1.3): no new URC until the buffer was emptied by reads; EG800K waits for a 0-byte read.
    if (this.rxBytes === 0 && (this.init.rearm === 'drained' || n === 0)) this.urcArmed = true;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /**
   * `AT+QISWTMD=<id>,<0|1>`: buffer mode keeps what is left in the buffer for reads, and is due one recv URC for it
   * (true) when there is any; from then the URC is edge-triggered again (§1.3). Push mode pushes the buffer out.
   */
  switchTo(mode: 0 | 1): boolean {
    this.accessMode = mode;
    this.urcArmed = this.rxBytes === 0;
    return !this.urcArmed;
  }

  /**
   * Whether `length` more bytes fit in the send buffer now. `SEND FAIL` means "the sending buffer is full" and the
   * data "can be resent" (BG95 TCP/IP AN §2.3.7, EC200U TCP/IP AN §2.4.10); what counts is what the network has not
   * taken yet ({@link unacked}). Transparent mode does not ask: its bytes have no command to refuse them.
   */
  fits(length: number): boolean {
    return this.unacked + length <= this.init.sendBufferBytes;
  }

  /** Queues bytes for the peer; false when the connection cannot take them (not connected). */
  write(data: Buffer): boolean {
    if (!this.socket || this.state !== 2) return false;
    if (this.uplink) this.uplink.push(data);
    else this.socket.write(data);
    this.sent += data.length;
    return true;
  }

  /**
   * Bytes sent and not yet taken by the network: still waiting for the uplink, or in the socket's own buffer (the
   * kernel's buffers behind it count as taken: on loopback they hold megabytes, so only a slow uplink fills the
   * send buffer there).
   */
  get unacked(): number {
    return (this.uplink?.pending ?? 0) + (this.socket?.writableLength ?? 0);
  }

  /** Closes the connection; the module forgets it. */
  destroy(): void {
    this.abort.abort();
    this.events = undefined;
    this.state = 4;
    this.uplink?.clear();
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.destroy();
    }
  }
}
