/**
 * The engine's side of transparent data mode (quectel-at.md §5.2): who holds the line after `CONNECT`, the result
 * codes that end it (found in band by the framer's raw mode, confirmed once nothing but URCs followed them for the
 * settle time), and the escape with its guard times. The engine owns one and asks it before it writes anything.
 *
 *   CONNECT ─▶ begin(): a DataChannel owns the line ─┬─ raw frames ─▶ channel.onData
 *                                                    ├─ marker (NO CARRIER / OK / RDY) ─▶ settle ─▶ end ─▶ lines again
 *   channel.escape() ─▶ drain, quiet, +++, quiet ────┘   (OK armed only once the module can have answered)
 */
import { QuectelError } from '../errors.js';
import type { Transport } from '../transport/Transport.js';
import type { AtTraceEvent } from './AtEngine.js';
import type { AtFramer } from './AtFramer.js';
import { classifyLine } from './classifyLine.js';
import { DataChannel, type DataModeEnd } from './DataChannel.js';

/** The result codes that end data mode whatever the host does (§5.2): the peer's close, a restart. */
export const DATA_MODE_ENDS: readonly string[] = ['NO CARRIER', 'RDY'];
const ESCAPE = Uint8Array.from([0x2b, 0x2b, 0x2b]);
/** How long after the escape's guard time its `OK` may take. */
const ESCAPE_ANSWER_MS = 2000;

/** What data mode needs of the engine that owns the line. */
export interface DataModeHost {
  readonly framer: AtFramer;
  readonly transport: Transport;
  /** The module's escape guard time. */
  readonly guardMs: number;
  /** How long a marker must stand, and how long a possible marker start is held back. */
  readonly settleMs: number;
  readonly urcPrefixes: readonly string[];
  /** Whether the port closed. */
  isClosed(): boolean;
  trace(dir: 'in' | 'out', kind: AtTraceEvent['kind'], text?: string, bytes?: Uint8Array): void;
  unknown(line: string): void;
  /** Data mode ended: for `reset` the restart is reported, for `lost` the engine resynchronises. */
  ended(channel: DataChannel, reason: DataModeEnd): void;
  /** The line is in command mode again, what followed the marker read: queued commands may go. */
  resume(): void;
}

export class DataMode {
  private current: DataChannel | undefined;
  /** Confirms a marker found in the data once the line stayed quiet after it. */
  private markerTimer: NodeJS.Timeout | undefined;
  /** Releases the end of a read held back as a possible marker start. */
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: DataModeHost) {}

  /** The channel that holds the line, while one does. */
  get channel(): DataChannel | undefined {
    return this.current;
  }

  /** `CONNECT` of `command`: a channel takes the line (the framer is in raw mode already). */
  begin(command: string): DataChannel {
    const host = this.host;
    const channel = new DataChannel({
      write: (bytes) => {
        host.trace('out', 'payload', undefined, bytes);
        return host.transport.write(bytes);
      },
      escape: (ch) => this.escape(ch),
    }, command, host.guardMs);
    this.current = channel;
    return channel;
  }

  /** Bytes of the connection (a refuted marker comes back this way too). */
  deliver(bytes: Uint8Array): void {
    clearTimeout(this.markerTimer);
    this.host.trace('in', 'data', undefined, bytes);
    this.current?.deliver(bytes);
  }

  /** A marker in the data: it ends data mode if it stands for the settle time. */
  marker(text: string): void {
    clearTimeout(this.markerTimer);
    this.markerTimer = setTimeout(() => this.confirmed(text), this.host.settleMs);
  }

  /** After each read in raw mode: the end of it that could begin a marker is data unless more bytes come soon. */
  afterRead(): void {
    clearTimeout(this.releaseTimer);
    const framer = this.host.framer;
    if (framer.inRaw && framer.rawHeld > 0) this.releaseTimer = setTimeout(() => framer.releaseRaw(), this.host.settleMs);
  }

  /** The port closed. */
  shutDown(): void {
    clearTimeout(this.markerTimer);
    clearTimeout(this.releaseTimer);
    if (this.current) this.end(this.current, 'closed');
  }

  /** Whether a line after a marker is something a module in command mode says unasked: a URC or a restart. */
  commandModeLine(line: string): boolean {
    const kind = classifyLine(line, undefined, this.host.urcPrefixes);
    return kind === 'urc' || kind === 'reset';
  }

  /** The error of a command made while the line is a connection's. */
  refusal(shown: string): QuectelError {
    return new QuectelError('AT_DATA_MODE',
      `${shown}: the port is in transparent data mode (${this.current?.command ?? 'CONNECT'}): it carries that connection's bytes ` +
      'and takes no command until the connection is closed or leaves data mode', { command: shown });
  }

  /** Runs the escape (§5.2): quiet, `+++`, quiet, `OK`; twice before giving up (then the engine resynchronises). */
  private async escape(ch: DataChannel): Promise<void> {
    const { host } = this;
    const guard = ch.guardMs;
    const margin = Math.max(20, guard / 5);
    await ch.writesDone();
    // Quiet on the line, not in the host's buffers: where the port can tell, from when its last byte left.
    await host.transport.drain?.().catch(() => undefined);
    let quietFrom = Math.max(ch.lastWriteAt, performance.now());
    // Data mode can end under any await (NO CARRIER, a restart, the port): then there is nothing to escape.
    const over = (): boolean => ch.state === 'ended' || host.isClosed();
    for (let attempt = 0; attempt < 2; attempt++) {
      if (over()) return;
      const wait = quietFrom + guard + margin - performance.now();
      if (wait > 0) await sleepUnless(wait, ch.ended);
      if (over()) return;
      host.trace('out', 'payload', '+++ (escape)', ESCAPE);
      const sent = performance.now();
      ch.lastWriteAt = sent;
      await host.transport.write(ESCAPE).catch(() => undefined);
      quietFrom = performance.now();
      // The module answers a guard time after the last `+` reached it, not before: an OK in the data before then is
      // the peer's.
      const early = sent + guard * 0.9 - performance.now();
      if (early > 0) await sleepUnless(early, ch.ended);
      if (over()) return;
      host.framer.setRawMarkers([...DATA_MODE_ENDS, 'OK']);
      await sleepUnless(guard * 0.1 + margin + ESCAPE_ANSWER_MS, ch.ended);
      if (over()) return;
      host.framer.setRawMarkers(DATA_MODE_ENDS);
    }
    // No answer: the escape may have been taken for data, or the module may be in command mode already.
    host.unknown('[no OK after +++: resynchronising]');
    host.framer.reset();
    this.end(ch, 'lost');
    host.resume();
  }

  /** A marker stayed unrefuted for the settle time: data mode is over. */
  private confirmed(text: string): void {
    const reason: DataModeEnd = text === 'NO CARRIER' ? 'no-carrier' : text === 'OK' ? 'escaped' : 'reset';
    this.host.trace('in', 'line', text);
    if (this.current) this.end(this.current, reason);
    // What followed (URCs the module held, the boot banner) is read as lines now.
    this.host.framer.confirmMarker();
    this.host.resume();
  }

  private end(ch: DataChannel, reason: DataModeEnd): void {
    if (this.current !== ch) return;
    this.current = undefined;
    clearTimeout(this.releaseTimer);
    ch.end(reason);
    this.host.ended(ch, reason);
  }
}

/** Waits `ms`, or less if `until` settles first; no timer is left behind either way. */
async function sleepUnless(ms: number, until: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([until, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
