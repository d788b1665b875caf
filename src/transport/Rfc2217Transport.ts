/**
 * A {@link Transport} to a serial port on another host through a server speaking RFC 2217 (telnet with the
 * COM-PORT-OPTION, ser2net's `telnet(rfc2217)` accepter): `rfc2217://host:port?baud=115200`. The far port's line
 * speed, framing (8N1), flow control and DTR/RTS are set as on a local port, and each setting waits for the
 * server's acknowledgement, so a speed the server refused is an error here and not garbled bytes later.
 *
 *   open:  TCP ─▶ WILL COM-PORT-OPTION, WILL/DO BINARY, WILL/DO SGA ─▶ (server) DO COM-PORT-OPTION
 *          ─▶ SET-BAUDRATE, SET-DATASIZE 8, SET-PARITY NONE, SET-STOPSIZE 1, SET-CONTROL (flow, DTR, RTS),
 *             each answered by the same subcommand + 100
 *   data:  0xFF doubled both ways; with BINARY refused, CR goes out as CR NUL (RFC 854)
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isQuectelError, QuectelError } from '../errors.js';
import { closedError, LinkTransport } from './LinkTransport.js';
import { assertBaudRate } from './parseTransportUrl.js';
import { connectTcp, isDisconnectError } from './TcpTransport.js';
import {
  DO, DONT, escapeData, negotiation, OPTION, subnegotiation, TelnetDecoder, WILL, WONT, type Negotiation, type TelnetEvent,
} from './telnet.js';
import type { SerialSignals, Transport } from './Transport.js';

/** How to open an {@link Rfc2217Transport}. */
export interface Rfc2217TransportOptions {
  readonly host: string;
  readonly port: number;
  /** Line speed of the far port. Default: 115200. */
  readonly baudRate?: number;
  /** Hardware (RTS/CTS) flow control on the far port. Default: false. */
  readonly rtscts?: boolean;
  /** Give up connecting after this many milliseconds. Default: 10000. */
  readonly connectTimeoutMs?: number;
  /** How long the server may take to answer each negotiation step. Default: 5000 ms. */
  readonly negotiationTimeoutMs?: number;
  /** The URL reported as {@link Transport.url}. */
  readonly url?: string;
}

/** COM-PORT-OPTION subcommands, client to server (RFC 2217 §3); the server answers with each plus 100. */
const SUB = {
  SET_BAUDRATE: 1, SET_DATASIZE: 2, SET_PARITY: 3, SET_STOPSIZE: 4, SET_CONTROL: 5,
} as const;
const SERVER_OFFSET = 100;
/** SET-CONTROL values (§3, "Set Control"). */
const CONTROL = { NO_FLOW: 1, HARDWARE_FLOW: 3, DTR_ON: 8, DTR_OFF: 9, RTS_ON: 11, RTS_OFF: 12 } as const;
const PARITY_NONE = 1;
const STOPSIZE_1 = 1;

/** Options this client agrees to, on each side. */
const OURS: ReadonlySet<number> = new Set([OPTION.BINARY, OPTION.SGA, OPTION.COM_PORT]);
const THEIRS: ReadonlySet<number> = new Set([OPTION.BINARY, OPTION.SGA]);

interface Waiter { readonly matches: (e: TelnetEvent) => boolean; readonly resolve: (e: TelnetEvent) => void }

export class Rfc2217Transport extends LinkTransport implements Transport {
  private readonly decoder: TelnetDecoder;
  /** Options enabled on our side (we WILL) and on theirs (they WILL). */
  private readonly us = new Set<number>();
  private readonly them = new Set<number>();
  /** Options we asked for and await an answer to, so an answer is not answered again (RFC 1143's loop). */
  private readonly askedUs = new Set<number>();
  private readonly askedThem = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  /** Data that came before anyone listened (the module's boot banner during negotiation). */
  private early: Uint8Array[] | undefined = [];
  private lastError: Error | undefined;

  private constructor(private readonly socket: Socket, url: string, private readonly negotiationTimeoutMs: number) {
    super(url);
    this.decoder = new TelnetDecoder(() => !this.them.has(OPTION.BINARY));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => (this.lastError = error));
    socket.on('close', () => {
      this.failWaiters();
      if (this.closeRequested) this.finish('closed');
      else if (this.lastError !== undefined && !isDisconnectError(this.lastError)) this.finish('error', this.lastError);
      else this.finish('disconnected', this.lastError);
    });
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event !== 'data' || !this.early) return;
      const held = this.early;
      this.early = undefined;
      queueMicrotask(() => {
        for (const chunk of held) this.emit('data', chunk);
      });
    });
  }

  /**
   * Connects, negotiates the COM-PORT-OPTION and sets the far port to `baudRate` 8N1.
   * @throws QuectelError `TRANSPORT_NOT_FOUND` (nothing listens), `TRANSPORT_OPEN_FAILED` (a server that does not
   *   speak RFC 2217 or does not answer), `TRANSPORT_BAD_OPTION` (a speed or setting the server refused).
   */
  static async open(options: Rfc2217TransportOptions): Promise<Rfc2217Transport> {
    const { host, port } = options;
    const url = options.url ?? `rfc2217://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const baudRate = assertBaudRate(options.baudRate ?? 115_200);
    const socket = await connectTcp(host, port, options.connectTimeoutMs, url);
    const t = new Rfc2217Transport(socket, url, options.negotiationTimeoutMs ?? 5000);
    try {
      await t.negotiate(baudRate, options.rtscts === true);
    } catch (e) {
      await t.close();
      if (isQuectelError(e, 'TRANSPORT_CLOSED')) {
        throw new QuectelError('TRANSPORT_OPEN_FAILED', `${url} closed the connection while the port was being set up (is the port in use, or its device missing?)`,
          { url }, { cause: e });
      }
      throw e;
    }
    return t;
  }

  get isOpen(): boolean {
    return !this.finished && !this.closeRequested && !this.socket.destroyed && this.socket.writable;
  }

  /** Writes bytes (0xFF doubled on the wire); resolves once they were handed to the OS. */
  write(data: Uint8Array): Promise<void> {
    const wire = escapeData(data, !this.us.has(OPTION.BINARY));
    return this.trackedWrite(wire, (bytes, done) => this.socket.write(bytes, done),
      (error) => this.finished || this.closeRequested || this.socket.destroyed || isDisconnectError(error));
  }

  /** Sets the far port's line speed; resolves once the server confirmed it. */
  async setBaudRate(baudRate: number): Promise<void> {
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, assertBaudRate(baudRate));
    const answer = await this.comPort(SUB.SET_BAUDRATE, value, `baud rate ${baudRate}`);
    const got = answer.length >= 4 ? new DataView(answer.buffer, answer.byteOffset).getUint32(0) : -1;
    if (got !== baudRate) {
      throw new QuectelError('TRANSPORT_BAD_OPTION', `${this.url} set the far port to ${got} baud, not ${baudRate}`, { url: this.url, option: 'baud', value: baudRate });
    }
  }

  /** Raises or drops DTR and RTS on the far port; resolves once the server confirmed each. */
  async setSignals(signals: SerialSignals): Promise<void> {
    if (signals.dtr !== undefined) await this.control(signals.dtr ? CONTROL.DTR_ON : CONTROL.DTR_OFF, `DTR ${signals.dtr ? 'on' : 'off'}`);
    if (signals.rts !== undefined) await this.control(signals.rts ? CONTROL.RTS_ON : CONTROL.RTS_OFF, `RTS ${signals.rts ? 'on' : 'off'}`);
  }

  protected tearDown(): void {
    this.failWaiters();
    this.socket.destroy();
  }

  /** Whoever waits for an answer from the server gets `TRANSPORT_CLOSED`: there will be none. */
  private failWaiters(): void {
    for (const w of [...this.waiters]) w.resolve({ kind: 'command', code: -1 });
    this.waiters.clear();
  }

  // ------------------------------------------------------------------ negotiation

  private async negotiate(baudRate: number, rtscts: boolean): Promise<void> {
    const accepted = this.next((e) => e.kind === 'negotiate' && e.option === OPTION.COM_PORT && (e.verb === DO || e.verb === DONT), 'DO COM-PORT-OPTION');
    this.askUs(OPTION.COM_PORT);
    this.askUs(OPTION.BINARY);
    this.askThem(OPTION.BINARY);
    this.askUs(OPTION.SGA);
    this.askThem(OPTION.SGA);
    const answer = await accepted;
    if (answer.kind === 'negotiate' && answer.verb === DONT) {
      throw new QuectelError('TRANSPORT_OPEN_FAILED', `${this.url} refused the COM-PORT-OPTION: it is a telnet server without RFC 2217`, { url: this.url });
    }
    await this.setBaudRate(baudRate);
    await this.comPort(SUB.SET_DATASIZE, Uint8Array.of(8), '8 data bits');
    await this.comPort(SUB.SET_PARITY, Uint8Array.of(PARITY_NONE), 'no parity');
    await this.comPort(SUB.SET_STOPSIZE, Uint8Array.of(STOPSIZE_1), '1 stop bit');
    await this.control(rtscts ? CONTROL.HARDWARE_FLOW : CONTROL.NO_FLOW, rtscts ? 'RTS/CTS flow control' : 'no flow control');
    // DTR and RTS up, as a local port opens; not waited for: a far port without modem-control lines (ser2net
    // serving a pty) leaves them unanswered, and such a port is still a good port. setSignals() does wait.
    this.socket.write(subnegotiation(OPTION.COM_PORT, Uint8Array.of(SUB.SET_CONTROL, CONTROL.DTR_ON)));
    if (!rtscts) this.socket.write(subnegotiation(OPTION.COM_PORT, Uint8Array.of(SUB.SET_CONTROL, CONTROL.RTS_ON)));
  }

  /** One SET-CONTROL, waiting for the server to confirm that value (an answer with another value is not one). */
  private async control(value: number, what: string): Promise<void> {
    try {
      await this.comPort(SUB.SET_CONTROL, Uint8Array.of(value), what, (answer) => answer[0] === value);
    } catch (e) {
      if (!this.isOpen) throw e;
      throw new QuectelError('TRANSPORT_BAD_OPTION', `${this.url} did not confirm ${what}: the far port may lack that line or setting (a pty has no modem-control lines)`,
        { url: this.url, option: 'control', value }, { cause: e });
    }
  }

  /** Sends one COM-PORT-OPTION subcommand and resolves with the payload of the server's answer to it. */
  private async comPort(sub: number, value: Uint8Array, what: string, accepts: (answer: Uint8Array) => boolean = () => true): Promise<Uint8Array> {
    if (!this.isOpen) throw closedError(this.url);
    const answer = this.next((e) => e.kind === 'subnegotiate' && e.option === OPTION.COM_PORT && e.payload[0] === sub + SERVER_OFFSET
      && accepts(e.payload.subarray(1)), what);
    this.socket.write(subnegotiation(OPTION.COM_PORT, Uint8Array.of(sub, ...value)));
    const e = await answer;
    return e.kind === 'subnegotiate' ? e.payload.subarray(1) : new Uint8Array(0);
  }

  /** The next event `matches` accepts, within the negotiation timeout. */
  private next(matches: (e: TelnetEvent) => boolean, what: string): Promise<TelnetEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new QuectelError('TRANSPORT_OPEN_FAILED', `${this.url} did not answer ${what} within ${this.negotiationTimeoutMs} ms (is it an RFC 2217 server?)`,
          { url: this.url }));
      }, this.negotiationTimeoutMs);
      const waiter: Waiter = {
        matches,
        resolve: (e) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (e.kind === 'command' && e.code === -1) reject(closedError(this.url));
          else resolve(e);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private askUs(option: number): void {
    this.askedUs.add(option);
    this.socket.write(negotiation(WILL, option));
  }

  private askThem(option: number): void {
    this.askedThem.add(option);
    this.socket.write(negotiation(DO, option));
  }

  // ------------------------------------------------------------------ receiving

  private onData(chunk: Uint8Array): void {
    const { data, events } = this.decoder.decode(chunk);
    for (const e of events) this.onEvent(e);
    if (data.length === 0) return;
    const owned = Uint8Array.prototype.slice.call(data);
    if (this.early) this.early.push(owned);
    else this.emit('data', owned);
  }

  /** Answers the server's negotiation (RFC 854: agree to what we support, refuse the rest, never answer an answer). */
  private onEvent(e: TelnetEvent): void {
    if (e.kind === 'negotiate') this.answer(e.verb, e.option);
    for (const w of this.waiters) {
      if (w.matches(e)) {
        w.resolve(e);
        break;
      }
    }
  }

  private answer(verb: Negotiation, option: number): void {
    const reply = (v: Negotiation) => this.socket.write(negotiation(v, option));
    if (verb === DO || verb === DONT) {
      const asked = this.askedUs.delete(option);
      const on = verb === DO && OURS.has(option);
      const was = this.us.has(option);
      if (on) this.us.add(option);
      else this.us.delete(option);
      if (!asked && on !== was) reply(on ? WILL : WONT);
      else if (!asked && verb === DO && !on) reply(WONT);
    } else {
      const asked = this.askedThem.delete(option);
      const on = verb === WILL && THEIRS.has(option);
      const was = this.them.has(option);
      if (on) this.them.add(option);
      else this.them.delete(option);
      if (!asked && on !== was) reply(on ? DO : DONT);
      else if (!asked && verb === WILL && !on) reply(DONT);
    }
  }
}
