/**
 * The AT command executor: one command in flight, a queue behind it, replies routed by expectation, URCs to
 * subscribers, and a fence after any failure so that a late `OK` is never credited to the wrong command.
 *
 *   Transport ──bytes──▶ AtFramer ──frames──▶ classifyLine ──▶ reply of the command in flight ──▶ send() resolves
 *       ▲                   ▲ modeAfter(): counted data,            └──▶ URC ──▶ onUrc() subscribers (signal only)
 *       │                   │ download, payload echo                └──▶ RDY / POWERED DOWN ──▶ 'reset'
 *       └──── command, payload ◀── queue ◀── send(AtCommand) ◀── prepareCommand: printable ASCII, secrets marked
 *
 * What is shown (trace, `unknown` events, error messages and contexts) goes through the {@link Redactor}: secret
 * arguments, echoed secrets and echoed payloads never appear there.
 *
 * Transparent data mode (quectel-at.md §5.2): a command with `dataMode` that is answered `CONNECT` hands the line to
 * a {@link DataChannel}. From then on no byte is read as AT (the framer's raw mode), no command is written (they fail
 * at once with `AT_DATA_MODE`), and the result codes that end data mode are looked for in band: `NO CARRIER`, the
 * `OK` of an escape, `RDY`.
 */
import { EventEmitter } from 'node:events';
import { QuectelError, type QuectelErrorContext } from '../errors.js';
import { CME_ERRORS } from '../protocol/errorCodes.js';
import type { Transport, TransportCloseEvent } from '../transport/Transport.js';
import type { AtCommand, AtReply } from './AtCommand.js';
import { AtFramer, type AtFrame, type FramerMode } from './AtFramer.js';
import type { DataChannel, DataModeEnd } from './DataChannel.js';
import { DATA_MODE_ENDS, DataMode } from './DataMode.js';
import { classifyLine, finalKind, URC_PREFIXES } from './classifyLine.js';
import { prepareCommand, type PreparedCommand } from './commandLine.js';
import { Redactor } from './Redactor.js';

/** Options of {@link AtEngine}. */
export interface AtEngineOptions {
  /** Deadline of a command that gives none. Default: 5000 ms. */
  readonly defaultTimeoutMs?: number;
  /** Prefixes that make a line a URC unless the command in flight expects them. Default: {@link URC_PREFIXES}. */
  readonly urcPrefixes?: readonly string[];
  /** Counted data after a URC line, e.g. `+QSSLURC: "recv",<id>,<n>` for a direct-push connection. Default: none. */
  readonly urcDataLength?: (line: string) => number | undefined;
  /** Receives every command, line and payload as it passes, with a timestamp, secrets redacted. Default: none. */
  readonly trace?: (event: AtTraceEvent) => void;
  /** Put payload and file bytes into trace events (never those of a `sensitive` command). Default: false (sizes only). */
  readonly traceData?: boolean;
  /** How long the resynchronising query may take, per attempt. Default: 2000 ms. */
  readonly fenceTimeoutMs?: number;
  /** Attempts before queued commands fail with `AT_NO_ANSWER`. Default: 3. */
  readonly fenceAttempts?: number;
  /**
   * After an upload (`CONNECT`, then the file) failed before its `CONNECT`: how long nothing is written while that
   * `CONNECT` may still come, so the resync is never stored as the file. Default: 5000 ms.
   */
  readonly lateUploadMs?: number;
  /**
   * After `RDY` or `POWERED DOWN` mid-command: how long the command may still be answered (its echo or result,
   * T08) before it fails with `AT_MODULE_RESET`. Default: 500 ms.
   */
  readonly resetGraceMs?: number;
  /** Longest line kept; a longer one fails the command with `AT_BAD_REPLY`. Default: 65536 bytes. */
  readonly maxLineLength?: number;
  /** Largest count a `+QSSLRECV: <n>`-style line may announce; more is `AT_BAD_REPLY`. Default: 65536. */
  readonly maxDataLength?: number;
  /** Largest file an `AT+QFDWL` may deliver; more is `AT_BAD_REPLY`. Default: 64 MiB. */
  readonly maxDownloadLength?: number;
  /**
   * The escape guard time of transparent mode, as the module keeps it (`ATS12`; quectel-at.md §5.2: 1 s): the line
   * is kept quiet this long (and a margin) before and after `+++`. Default: 1000 ms.
   */
  readonly guardTimeMs?: number;
  /**
   * Transparent mode: how long the line must stay quiet (or carry only URCs) after `NO CARRIER`, `RDY` or an
   * escape's `OK` in the data before data mode counts as ended; anything else after it makes it data. Also how long
   * the possible start of such a line is held back at the end of a read. Default: 50 ms.
   */
  readonly dataModeSettleMs?: number;
}

/** One step seen by the trace hook. Texts of commands and lines (secrets redacted); payloads as sizes unless `traceData`. */
export interface AtTraceEvent {
  readonly at: number;
  readonly dir: 'out' | 'in';
  readonly kind: 'command' | 'payload' | 'line' | 'prompt' | 'data' | 'echo';
  readonly text?: string;
  readonly length: number;
  readonly bytes?: Uint8Array;
}

export interface AtEngineEvents {
  urc: [line: string, data: Uint8Array | undefined];
  /** The module announced a restart or power-down on its own: `RDY`, `POWERED DOWN`. */
  reset: [line: string];
  /** The port entered transparent data mode (`CONNECT`) or left it. */
  dataMode: [channel: DataChannel, ended: DataModeEnd | undefined];
  /** A line nobody expected (redacted): logged, never thrown. */
  unknown: [line: string];
  close: [event: TransportCloseEvent];
}

interface Job {
  readonly p: PreparedCommand;
  readonly resolve: (r: AtReply) => void;
  readonly reject: (e: Error) => void;
}

interface Active {
  readonly job: Job;
  readonly lines: string[];
  readonly data: Uint8Array[];
  timer?: NodeJS.Timeout;
  /** Its echo came (echo is on for it): its payload may be echoed too. */
  echoSeen: boolean;
  /** While echo may be on and its echo has not come: lines that may be the previous command's output, or its reply. */
  readonly preEcho: Array<{ readonly line: string; readonly data?: Uint8Array }>;
  /** Armed by a restart mid-command: fails it unless the module still answers it. */
  grace?: NodeJS.Timeout;
  /** Its `CONNECT` came (an upload or a download is in its data phase). */
  connected?: boolean;
}

interface LateWaiter {
  readonly prefix: string;
  readonly job: Job;
  readonly reply: Omit<AtReply, 'late'>;
  readonly timer: NodeJS.Timeout;
}

/** Queries whose reply lines differ from each other, used in turn to resynchronise. */
interface FenceQuery { readonly command: string; readonly prefix: string }
// None of these prefixes is ever a URC, so nothing unsolicited can pass for a reply (3GPP 27.007/27.005 queries).
const FENCE_QUERIES: readonly FenceQuery[] = [
  { command: 'AT+CMEE?', prefix: '+CMEE:' }, { command: 'AT+CSQ', prefix: '+CSQ:' }, { command: 'AT+CSCS?', prefix: '+CSCS:' },
  { command: 'AT+CMGF?', prefix: '+CMGF:' },
];

/**
 * Written when a fence query went unanswered: a module left waiting for a payload (a host that went away after the
 * `> ` of `AT+QSSLSEND`: a pulled cable, a crashed process) takes every byte as data and answers no command. ESC ends
 * a variable-length send without sending anything (quectel-at.md §4.1); the 1460 Ctrl-Z after it complete any
 * fixed-length send (at most 1460 bytes), which then goes out to that connection's peer; the CR the fence query
 * starts with ends what is left as one command line the module refuses. A module not waiting for data refuses it
 * all as one bad line. A file upload (`AT+QFUPL`) ends by its own timeout.
 */
export const UNSTICK_PAYLOAD: Uint8Array = Uint8Array.from({ length: 1461 }, (_, i) => (i === 0 ? 0x1b : 0x1a));

/** Lines kept while waiting for an echo, before the oldest is given up as stale output. */
const MAX_PRE_ECHO = 64;

const EMPTY = new Uint8Array(0);

export class AtEngine extends EventEmitter<AtEngineEvents> {
  private readonly framer: AtFramer;
  private readonly redactor: Redactor;
  private readonly queue: Job[] = [];
  private readonly late = new Set<LateWaiter>();
  private active: Active | undefined;
  private fence: { readonly query: FenceQuery; sawReply: boolean; done: (ok: boolean) => void } | undefined;
  private needsFence = false;
  /** Rotates the fence queries, so a late reply to one attempt never satisfies the next. */
  private fenceSeq = 0;
  /**
   * The command that last failed without its reply: until the fence succeeds its counted data is still framed as
   * data (never parsed as lines), and a late prompt for it is cancelled.
   */
  private stale: PreparedCommand | undefined;
  /** Whether the module echoes commands, as far as the engine has seen: on after `RDY` (the factory default, ATE1). */
  private echo: 'on' | 'off' | 'unknown' = 'unknown';
  /**
   * Whether data typed after a send prompt is echoed too (`AT+QISDE=1` was answered OK, §7.2). Only then is an echo
   * of a send's payload looked for: a payload that starts like the module's next words (`\r\nSEND OK`) could
   * otherwise be taken for its own echo.
   */
  private dataEcho = false;
  private closed = false;
  /**
   * An upload that failed (timeout, abort) before its `CONNECT`. The module may still open it, and would then store
   * whatever is written next (a fence query, the unstick bytes) under the file's name, at the file's size. So nothing
   * is written until its fate is known: a final result (no data phase), or `CONNECT`, answered with the upload's own
   * bytes (the file is then what the caller meant) and followed by its result; or the wait runs out.
   */
  private lateUpload: { readonly p: PreparedCommand; readonly timer: NodeJS.Timeout; connected: boolean } | undefined;
  /** Transparent data mode: the channel that holds the line, while one does. */
  private readonly dataMode: DataMode;

  constructor(readonly transport: Transport, private readonly options: AtEngineOptions = {}) {
    super();
    this.redactor = new Redactor(options.traceData === true);
    this.framer = new AtFramer(
      {
        modeAfter: (line) => this.modeAfter(line), frame: (f) => this.onFrame(f), confirmEcho: (line) => this.answersAfterEcho(line),
        plausibleAfterMarker: (line) => this.dataMode.commandModeLine(line),
      },
      { maxLineLength: options.maxLineLength, maxDownloadLength: options.maxDownloadLength },
    );
    this.dataMode = new DataMode({
      framer: this.framer, transport, guardMs: options.guardTimeMs ?? 1000, settleMs: options.dataModeSettleMs ?? 50,
      urcPrefixes: options.urcPrefixes ?? URC_PREFIXES,
      isClosed: () => this.closed,
      trace: (dir, kind, text, bytes) => this.trace(dir, kind, text, bytes),
      unknown: (line) => this.unknown(line),
      ended: (channel, reason) => {
        this.emit('dataMode', channel, reason);
        if (reason === 'reset') this.onReset('RDY');
        if (reason === 'lost') this.needsFence = true;
      },
      resume: () => this.pump(),
    });
    transport.on('data', (chunk) => this.receive(chunk));
    transport.once('close', (event) => this.shutDown(event));
  }

  /**
   * Queues a command; resolves with its reply once its final result code (and late result) came.
   * @throws QuectelError `INVALID_ARGUMENT` (nothing written) for a command line that is not printable ASCII,
   *   `AT_CME_ERROR` (with `context.cme`), `AT_ERROR` (with `context.qiError` where asked), `AT_SEND_FAIL`,
   *   `AT_TIMEOUT`, `AT_MODULE_RESET`, `AT_BAD_REPLY`, `AT_ABORTED`, `AT_NO_ANSWER`, `TRANSPORT_CLOSED`.
   */
  send(cmd: AtCommand): Promise<AtReply> {
    let p: PreparedCommand;
    try {
      p = prepareCommand(cmd);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.closed) return Promise.reject(new QuectelError('TRANSPORT_CLOSED', `${this.transport.url} is closed`));
    if (this.channel) return Promise.reject(this.dataMode.refusal(p.shown));
    if (cmd.signal?.aborted) return Promise.reject(this.error('AT_ABORTED', p, 'aborted before it was sent'));
    return new Promise<AtReply>((resolve, reject) => {
      const signal = cmd.signal;
      const settle = () => {
        if (signal) this.unwatchAbort(signal, job);
      };
      const job: Job = {
        p,
        resolve: (r) => { settle(); resolve(r); },
        reject: (e) => { settle(); reject(e); },
      };
      this.queue.push(job);
      if (signal) this.watchAbort(signal, job);
      this.pump();
    });
  }

  /**
   * One `abort` listener per signal, however many commands share it (a session's signal on thousands of queued
   * commands would otherwise pass the listener limit and warn of a leak).
   */
  private readonly aborts = new Map<AbortSignal, { readonly jobs: Set<Job>; readonly listener: () => void }>();

  private watchAbort(signal: AbortSignal, job: Job): void {
    let entry = this.aborts.get(signal);
    if (!entry) {
      const jobs = new Set<Job>();
      const listener = () => {
        this.aborts.delete(signal);
        for (const j of [...jobs]) this.abort(j);
      };
      entry = { jobs, listener };
      this.aborts.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.jobs.add(job);
  }

  private unwatchAbort(signal: AbortSignal, job: Job): void {
    const entry = this.aborts.get(signal);
    if (!entry) return;
    entry.jobs.delete(job);
    if (entry.jobs.size === 0) {
      signal.removeEventListener('abort', entry.listener);
      this.aborts.delete(signal);
    }
  }

  /** Calls `handler` for every URC whose line starts with `prefix`. Handlers signal; they must not send commands. */
  onUrc(prefix: string, handler: (line: string, data: Uint8Array | undefined) => void): () => void {
    const listener = (line: string, data: Uint8Array | undefined) => {
      if (line.startsWith(prefix)) handler(line, data);
    };
    this.on('urc', listener);
    return () => this.off('urc', listener);
  }

  /** The port in transparent data mode, while it is (commands fail with `AT_DATA_MODE` meanwhile). */
  get dataChannel(): DataChannel | undefined {
    return this.dataMode.channel;
  }

  private get channel(): DataChannel | undefined {
    return this.dataMode.channel;
  }

  /** Closes the transport; everything pending fails with `TRANSPORT_CLOSED`. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  // ------------------------------------------------------------------ sending

  private pump(): void {
    if (this.active || this.fence || this.closed || this.channel || this.lateUpload) return;
    if (this.needsFence && this.queue.length > 0) return void this.runFence();
    const job = this.queue.shift();
    if (!job) return;
    const { p } = job;
    const active: Active = { job, lines: [], data: [], echoSeen: false, preEcho: [] };
    this.active = active;
    this.redactor.remember(p);
    this.framer.expectPrompt(p.cmd.payload !== undefined && (p.cmd.payloadAfter ?? 'prompt') === 'prompt');
    this.trace('out', 'command', p.shown);
    // The waiter (this.active) is in place before the write. The deadline starts with the write: a write that never
    // completes (CTS held low, a full TCP window) must not leave the command pending for ever.
    active.timer = setTimeout(() => this.timeOut(active), p.cmd.timeoutMs ?? this.options.defaultTimeoutMs ?? 5000);
    this.transport.write(p.bytes).catch((e: unknown) => this.finish(active, e instanceof Error ? e : new Error(String(e))));
  }

  private writePayload(active: Active): void {
    const { cmd } = active.job.p;
    const payload = cmd.payload!;
    this.trace('out', 'payload', undefined, payload, cmd.sensitive);
    // With echo on, a module may repeat the payload: after `>` when QISDE=1, after CONNECT on a BG95 upload (§6),
    // whose result line (`+QFUPL:`) no payload begins with. The framer takes the echo if it comes.
    const afterPrompt = (cmd.payloadAfter ?? 'prompt') === 'prompt';
    if (active.echoSeen && (!afterPrompt || this.dataEcho)) this.framer.expectEcho(payload);
    this.transport.write(payload).catch((e: unknown) => this.finish(active, e instanceof Error ? e : new Error(String(e))));
  }

  private timeOut(active: Active): void {
    this.markStale(active);
    this.finish(active, this.error('AT_TIMEOUT', active.job.p, 'no final result in time'));
  }

  private abort(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      return job.reject(this.error('AT_ABORTED', job.p, 'aborted while queued'));
    }
    if (this.active?.job === job) {
      this.markStale(this.active);
      return this.finish(this.active, this.error('AT_ABORTED', job.p, 'aborted in flight'));
    }
    for (const w of this.late) {
      if (w.job === job) {
        clearTimeout(w.timer);
        this.late.delete(w);
        job.reject(this.error('AT_ABORTED', job.p, 'aborted while waiting for its result'));
      }
    }
  }

  /** The command in flight gave up waiting; its reply may still come, so fence before the next one. */
  private markStale(active: Active): void {
    this.needsFence = true;
    this.stale = active.job.p;
    // Keep watching for its prompt, which would otherwise swallow the resync as payload.
    const { cmd } = active.job.p;
    if (cmd.payload !== undefined && (cmd.payloadAfter ?? 'prompt') === 'prompt') queueMicrotask(() => this.framer.expectPrompt(true));
    if (cmd.payload !== undefined && cmd.payloadAfter === 'connect' && !active.connected) {
      clearTimeout(this.lateUpload?.timer);
      this.lateUpload = { p: active.job.p, connected: false, timer: setTimeout(() => this.endLateUpload(), this.options.lateUploadMs ?? 5000) };
    }
  }

  /** The failed upload's fate is known (or the wait ran out): the resync may go out. */
  private endLateUpload(): void {
    if (!this.lateUpload) return;
    clearTimeout(this.lateUpload.timer);
    this.lateUpload = undefined;
    this.pump();
  }

  /**
   * A line while a failed upload may still open: `CONNECT` gets its bytes, its final result ends the wait (true:
   * the line was the upload's). URCs and restarts take their usual way.
   */
  private onLateUploadLine(line: string): boolean {
    const late = this.lateUpload!;
    if (line === 'CONNECT' && !late.connected) {
      late.connected = true;
      const payload = late.p.cmd.payload!;
      this.trace('out', 'payload', undefined, payload, late.p.cmd.sensitive);
      this.transport.write(payload).catch(() => this.endLateUpload());
      return true;
    }
    const own = late.connected && (late.p.cmd.expect ?? []).some((prefix) => line.startsWith(prefix)); // `+QFUPL: <size>,<ck>`
    if (!own && finalKind(line) === undefined) return false;
    this.unknown(line);
    if (own) return true;
    this.endLateUpload();
    return true;
  }

  /** Ends the command in flight with a reply or an error, then runs the next one. */
  private finish(active: Active, outcome: AtReply | Error): void {
    if (this.active !== active) return;
    clearTimeout(active.timer);
    clearTimeout(active.grace);
    this.active = undefined;
    this.framer.expectPrompt(false);
    for (const old of active.preEcho) this.unknown(old.line);
    if (outcome instanceof Error) active.job.reject(outcome);
    else active.job.resolve(outcome);
    this.pump();
  }

  /** Fails the command in flight because its reply cannot be read, and resynchronises. */
  private badReply(active: Active, what: string): void {
    this.markStale(active);
    this.finish(active, new QuectelError('AT_BAD_REPLY', `${active.job.p.shown}: ${what}`, this.context(active)));
  }

  /** Resynchronises with a query whose reply is never unsolicited: everything before its reply and `OK` is stale. */
  private async runFence(): Promise<void> {
    const attempts = this.options.fenceAttempts ?? 3;
    for (let n = 0; n < attempts && !this.closed; n++) {
      // A late CONNECT put the port in data mode: a query now would go to the connection's peer. Its escape first.
      while (this.channel) await this.channel.ended;
      const query = FENCE_QUERIES[this.fenceSeq++ % FENCE_QUERIES.length]!;
      // After one unanswered query, the module may be waiting for payload bytes: give it them first.
      const unstick = n === 1;
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.options.fenceTimeoutMs ?? 2000);
        this.fence = { query, sawReply: false, done: (v) => { clearTimeout(timer); resolve(v); } };
        if (unstick) this.trace('out', 'payload', 'ESC and 1460 Ctrl-Z, to end a payload the module may be waiting for', UNSTICK_PAYLOAD);
        this.trace('out', 'command', query.command);
        const bytes = Buffer.from(`${unstick ? '\r' : ''}${query.command}\r`);
        this.transport.write(unstick ? Buffer.concat([UNSTICK_PAYLOAD, bytes]) : bytes).catch(() => resolve(false));
      });
      this.fence = undefined;
      if (ok) {
        this.needsFence = false;
        this.stale = undefined;
        return this.pump();
      }
      // Nothing came back: the framer may be stuck counting payload bytes that were lost. Start clean (unless a late
      // CONNECT made the line a connection's meanwhile).
      if (!this.channel) this.framer.reset();
    }
    for (const job of this.queue.splice(0)) job.reject(this.error('AT_NO_ANSWER', job.p, 'the module does not answer'));
  }

  // ------------------------------------------------------------------ receiving

  /** The command whose framing applies: the one in flight, or the one that failed and may still be answered. */
  private framingCommand(): AtCommand | undefined {
    return this.active?.job.p.cmd ?? this.stale?.cmd;
  }

  private modeAfter(line: string): FramerMode | undefined {
    const cmd = this.framingCommand();
    // Transparent mode: from the byte after CONNECT on, the line is the connection's.
    if (cmd?.dataMode && line === 'CONNECT') return { raw: { markers: DATA_MODE_ENDS } };
    if (cmd?.dataPrefix && line.startsWith(cmd.dataPrefix)) {
      const n = this.count(line.slice(cmd.dataPrefix.length));
      if (n !== undefined) return { data: n };
    }
    if (cmd?.download && line === 'CONNECT') {
      const name = /^AT(\+[A-Z0-9]+)/i.exec(typeof cmd.command === 'string' ? cmd.command : '')?.[1]?.toUpperCase() ?? '+QFDWL';
      return { download: { trailer: `${name}: ` } };
    }
    const n = this.options.urcDataLength?.(line);
    return n === undefined ? undefined : { data: n };
  }

  /**
   * Whether `line` can follow the echo of the payload of the command in flight: its final result, its own reply
   * (`+QFUPL: <n>,<ck>`), a URC or a restart. Anything else means the bytes were not an echo.
   */
  private answersAfterEcho(line: string): boolean {
    const p = this.active?.job.p;
    if (!p) return true;
    const own = /^AT(\+[A-Z0-9]+)/i.exec(p.line)?.[1]?.toUpperCase();
    const replies = [...(p.cmd.expect ?? []), ...(own ? [`${own}:`] : [])];
    const kind = classifyLine(line, { command: p.line, expect: replies }, this.options.urcPrefixes ?? URC_PREFIXES);
    return kind === 'final' || kind === 'reset' || kind === 'urc' || (kind === 'reply' && replies.some((r) => line.startsWith(r)));
  }

  /** `<n>` (optionally followed by `,<more fields>`, as UDP reads have) within the bound; undefined otherwise. */
  private count(text: string): number | undefined {
    const m = /^ ?(\d{1,10})(?:,.*)?$/.exec(text);
    const n = m ? Number(m[1]) : Number.NaN;
    return Number.isSafeInteger(n) && n <= (this.options.maxDataLength ?? 65_536) ? n : undefined;
  }

  private onFrame(frame: AtFrame): void {
    const active = this.active;
    switch (frame.kind) {
      case 'prompt':
        this.trace('in', 'prompt', '>');
        if (active?.job.p.cmd.payload) {
          this.heard(active);
          this.writePayload(active);
        } else if (this.stale?.cmd.payload) {
          // A late prompt for a command that already failed: ESC cancels the send (§4.1) instead of letting the
          // resync's bytes become payload.
          this.transport.write(Uint8Array.of(0x1b)).catch(() => undefined);
        }
        return;
      case 'echo':
        this.trace('in', 'echo', undefined, undefined, true, frame.length);
        return;
      case 'raw':
        return this.dataMode.deliver(frame.bytes);
      case 'marker':
        return this.dataMode.marker(frame.text);
      case 'data':
        if (this.options.trace) this.trace('in', 'data', this.redactor.line(frame.line), frame.bytes, active?.job.p.cmd.sensitive);
        return this.onData(active, frame.line, frame.bytes);
      case 'download':
        this.trace('in', 'data', frame.trailer, frame.bytes, active?.job.p.cmd.sensitive);
        if (active?.job.p.cmd.download) {
          this.heard(active);
          active.data.push(frame.bytes);
          active.lines.push(frame.trailer);
        }
        return;
      case 'overflow':
        if (active) return this.badReply(active, `a ${frame.what} longer than ${frame.limit} bytes`);
        return this.unknown(`[a ${frame.what} longer than ${frame.limit} bytes, dropped]`);
      case 'line':
        if (this.options.trace) this.trace('in', 'line', this.redactor.line(frame.text));
        return this.onLine(frame.text);
    }
  }

  private onData(active: Active | undefined, line: string, bytes: Uint8Array): void {
    const prefix = active?.job.p.cmd.dataPrefix;
    if (active && prefix && line.startsWith(prefix)) {
      if (this.echo !== 'off' && !active.echoSeen) return this.holdBeforeEcho(active, { line, data: bytes });
      this.heard(active);
      active.lines.push(line);
      active.data.push(bytes);
    } else if (this.stale?.cmd.dataPrefix && line.startsWith(this.stale.cmd.dataPrefix)) {
      this.unknown(line); // the late reply of a command that already failed
    } else this.emit('urc', line, bytes);
  }

  private onLine(line: string): void {
    // A late result is matched before anything else: its prefix need not be a known URC (`+QPING:`, `+QHTTPGET:`).
    if (this.settleLate(line)) return void this.emit('urc', line, undefined);
    if (line === 'CONNECT' && this.framer.inRaw) return this.onConnect();
    if (this.lateUpload && !this.active && this.onLateUploadLine(line)) return;
    if (this.fence) return this.onFenceLine(line);
    const active = this.active;
    const p = active?.job.p;
    const cmd = p?.cmd;
    // CONNECT opens the data phase of QFUPL (host writes) and QFDWL (the framer already switched to download).
    if (line === 'CONNECT' && active && cmd && (cmd.download || (cmd.payload && cmd.payloadAfter === 'connect'))) {
      this.heard(active);
      active.connected = true;
      if (!cmd.download) this.writePayload(active);
      return;
    }
    // A counted-data line the framer refused (`+QSSLRECV: -1`, `NaN`, `0x10`, too large): its bytes cannot be framed.
    if (active && cmd?.dataPrefix && line.startsWith(cmd.dataPrefix)) {
      return this.badReply(active, `malformed data length in "${this.redactor.line(line)}"`);
    }
    const kind = classifyLine(line, p && { command: p.line, expect: cmd!.expect }, this.options.urcPrefixes ?? URC_PREFIXES);
    if (kind === 'reset') return this.onReset(line);
    if (kind === 'urc') return void this.emit('urc', line, undefined);
    if (!active || !p) return this.unknown(line);
    if (kind === 'echo' || (this.echo !== 'off' && !active.echoSeen && kind !== 'final' && line.endsWith(p.line))) {
      // The echo; text glued before it is the previous command's output still being printed.
      if (line.length > p.line.length) this.unknown(line.slice(0, -p.line.length));
      return this.onEcho(active);
    }
    // While echo may be on, nothing before a command's echo is its reply (a BC66 still printing after the last OK):
    // such lines wait for the echo (then they were stale) or for the final result (then echo was off after all).
    if (this.echo !== 'off' && !active.echoSeen) {
      if (kind === 'final') return this.finalWithoutEcho(active, line);
      return this.holdBeforeEcho(active, { line });
    }
    if (kind === 'unknown') return this.unknown(line);
    this.heard(active);
    if (kind === 'reply') return this.onReply(active, line);
    this.onFinal(active, line);
  }

  private onReply(active: Active, line: string): void {
    // A one-line reply: a line before it with the same prefix was a URC (a boot's +CPIN: READY), deliver it as one.
    if (active.job.p.cmd.single && active.lines.length > 0) {
      for (const earlier of active.lines.splice(0)) this.emit('urc', earlier, undefined);
    }
    active.lines.push(line);
  }

  private onEcho(active: Active): void {
    active.echoSeen = true;
    this.echo = 'on';
    this.heard(active);
    for (const old of active.preEcho.splice(0)) this.unknown(old.line);
  }

  private holdBeforeEcho(active: Active, entry: { line: string; data?: Uint8Array }): void {
    active.preEcho.push(entry);
    if (active.preEcho.length > MAX_PRE_ECHO) this.unknown(active.preEcho.shift()!.line);
  }

  /** A final result with no echo before it: echo is off after all, and the lines held back were its reply. */
  private finalWithoutEcho(active: Active, final: string): void {
    this.echo = 'off';
    const held = active.preEcho.splice(0);
    const { p } = active.job;
    for (const h of held) {
      if (h.data) {
        active.lines.push(h.line);
        active.data.push(h.data);
      } else if (classifyLine(h.line, { command: p.line, expect: p.cmd.expect }) === 'reply') this.onReply(active, h.line);
      else this.unknown(h.line);
    }
    this.heard(active);
    this.onFinal(active, final);
  }

  /** Something of the command in flight came: a restart before it did not stop the module from answering it. */
  private heard(active: Active): void {
    clearTimeout(active.grace);
    active.grace = undefined;
  }

  private onFinal(active: Active, line: string): void {
    const { p } = active.job;
    const cmd = p.cmd;
    switch (finalKind(line)) {
      case 'ok': {
        if (!active.echoSeen && this.echo === 'unknown') this.echo = 'off';
        this.noteEchoSettings(p.line);
        cmd.onOk?.(); // before the next byte is framed: it may change how that byte is read
        const reply = { lines: active.lines, final: line, data: active.data.length === 1 ? active.data[0]! : Buffer.concat(active.data) };
        if (!cmd.lateResult) return this.finish(active, reply);
        const late = cmd.lateResult;
        const w: LateWaiter = {
          prefix: late.prefix, job: active.job, reply,
          timer: setTimeout(() => {
            this.late.delete(w);
            active.job.reject(this.error('AT_TIMEOUT', p, `no ${late.prefix} after OK`));
          }, late.timeoutMs),
        };
        this.late.add(w);
        // The queue moves on: the module takes other commands while it works on this one.
        this.active = undefined;
        clearTimeout(active.timer);
        clearTimeout(active.grace);
        this.framer.expectPrompt(false);
        return this.pump();
      }
      case 'cme': {
        const text = line.slice('+CME ERROR:'.length).trim();
        const cme = /^\d+$/.test(text) ? Number(text) : undefined;
        const meaning = cme === undefined ? text : (CME_ERRORS[cme] ?? 'unknown error');
        return this.finish(active, new QuectelError('AT_CME_ERROR', `${p.shown}: +CME ERROR ${text} (${meaning})`, { ...this.context(active, line), cme }));
      }
      case 'send-fail':
        return this.finish(active, new QuectelError('AT_SEND_FAIL', `${p.shown}: the module's send buffer is full`, this.context(active, line)));
      default: {
        const error = new QuectelError('AT_ERROR', `${p.shown} answered ${line}`, this.context(active, line));
        if (!cmd.qiErrorDetail) return this.finish(active, error);
        // Ask for the detail before anything else runs; the command fails either way.
        const job = active.job;
        this.queue.unshift({
          p: prepareCommand({ command: 'AT+QIGETERROR', expect: ['+QIGETERROR:'] }),
          resolve: (r) => job.reject(withDetail(error, r.lines[0])),
          reject: () => job.reject(error),
        });
        this.active = undefined;
        clearTimeout(active.timer);
        clearTimeout(active.grace);
        this.framer.expectPrompt(false);
        return this.pump();
      }
    }
  }

  /**
   * `ATE0`, `ATE1`, `ATZ`, `AT&F` (alone or chained, `AT&FZE0`, T04) change echo for the commands after them;
   * `AT+QISDE=<0|1>` the echo of send payloads.
   */
  private noteEchoSettings(line: string): void {
    const qisde = /^AT\+QISDE=\s*([01])$/i.exec(line);
    if (qisde) this.dataEcho = qisde[1] === '1';
    const basic = /^AT((?:&?[A-Z]\d*)+)$/i.exec(line)?.[1];
    if (!basic) return;
    for (const t of basic.toUpperCase().match(/&?[A-Z]\d*/g) ?? []) {
      if (t === 'E0' || t === 'E') this.echo = 'off';
      else if (t === 'E1' || t === 'Z' || t === 'Z0' || t === '&F' || t === '&F0') this.echo = 'on';
    }
  }

  private onFenceLine(line: string): void {
    const fence = this.fence!;
    const kind = classifyLine(line, { command: fence.query.command, expect: [fence.query.prefix] }, this.options.urcPrefixes ?? URC_PREFIXES);
    if (kind === 'reset') return this.onReset(line);
    if (kind === 'urc') return void this.emit('urc', line, undefined);
    if (kind === 'echo') return;
    if (kind === 'reply' && line.startsWith(fence.query.prefix)) fence.sawReply = true;
    else if (kind === 'final' && line === 'OK' && fence.sawReply) fence.done(true);
    else this.unknown(line); // stale: the late answer of whatever failed
  }

  private unknown(line: string): void {
    this.emit('unknown', this.redactor.line(line));
  }

  /** Resolves the command waiting for `line` as its late result; true if there was one. */
  private settleLate(line: string): boolean {
    for (const w of this.late) {
      if (line.startsWith(w.prefix)) {
        clearTimeout(w.timer);
        this.late.delete(w);
        w.job.resolve({ ...w.reply, late: line });
        return true;
      }
    }
    return false;
  }

  /**
   * Input goes to the framer; bytes it takes as counted data or a download are also watched for `\r\nRDY\r\n`. A
   * module that restarts in the middle of a read block or a download prints its boot banner where the host
   * expects data, so the banner is swallowed and no restart is seen. When the banner shows up there and then the
   * line falls silent for the reset grace with the command still unanswered, that is a restart: reported, and
   * the command fails as one. File content that holds the same text is followed by more bytes, not by silence.
   */
  private receive(chunk: Uint8Array): void {
    const before = this.framer.swallowing;
    this.framer.push(chunk);
    if (this.framer.inRaw) this.dataMode.afterRead();
    const active = this.active;
    // Also while a match begun inside the data goes on: the block can end in the middle of the banner.
    if ((before || this.framer.swallowing || this.restartBanner.partial) && active && this.restartBanner.scan(chunk)) {
      this.suspect = { active, resets: this.resets };
    }
    const suspect = this.suspect;
    if (!suspect) return;
    clearTimeout(this.suspectTimer);
    if (this.active !== suspect.active || this.resets !== suspect.resets) {
      this.suspect = undefined;
      return;
    }
    this.suspectTimer = setTimeout(() => {
      this.suspect = undefined;
      if (this.active !== suspect.active || this.resets !== suspect.resets) return;
      this.framer.reset();
      this.onReset('RDY');
    }, this.options.resetGraceMs ?? 500);
  }

  private readonly restartBanner = new StreamMatcher(Buffer.from('\r\nRDY\r\n', 'latin1'));
  private suspect: { readonly active: Active; readonly resets: number } | undefined;
  private suspectTimer: NodeJS.Timeout | undefined;
  /** Restarts seen so far. */
  private resets = 0;

  private onReset(line: string): void {
    this.resets++;
    // After a restart the module echoes again (ATE1 is the factory default, §1.1); the payload echo setting is lost.
    this.echo = line === 'RDY' ? 'on' : 'unknown';
    this.dataEcho = false;
    const active = this.active;
    if (active && !active.grace) {
      // T08: a command written while the module booted is answered right after `RDY`. Give it a moment; a command
      // the module never answers fails as a restart, and its late answer (if any) is fenced off.
      active.grace = setTimeout(() => {
        this.markStale(active);
        this.finish(active, this.error('AT_MODULE_RESET', active.job.p, `the module restarted (${line})`));
      }, this.options.resetGraceMs ?? 500);
    }
    for (const w of this.late) {
      clearTimeout(w.timer);
      w.job.reject(this.error('AT_MODULE_RESET', w.job.p, `the module restarted (${line})`));
    }
    this.late.clear();
    this.endLateUpload(); // a restarted module opens no upload
    this.emit('reset', line);
  }

  private shutDown(event: TransportCloseEvent): void {
    this.closed = true;
    clearTimeout(this.suspectTimer);
    this.dataMode.shutDown();
    const error = new QuectelError('TRANSPORT_CLOSED', `${this.transport.url} closed (${event.reason})`, { reason: event.reason }, { cause: event.error });
    if (this.active) {
      clearTimeout(this.active.timer);
      clearTimeout(this.active.grace);
      this.active.job.reject(error);
      this.active = undefined;
    }
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const w of this.late) {
      clearTimeout(w.timer);
      w.job.reject(error);
    }
    this.late.clear();
    clearTimeout(this.lateUpload?.timer);
    this.lateUpload = undefined;
    this.fence?.done(false);
    this.emit('close', event);
  }

  // ------------------------------------------------------------------ transparent data mode

  /** `CONNECT` of a data-mode command: its channel takes the line. */
  private onConnect(): void {
    const active = this.active;
    const channel = this.dataMode.begin(active?.job.p.shown ?? this.stale?.shown ?? 'CONNECT');
    // Commands queued behind would be written into the connection's data: they fail instead.
    for (const job of this.queue.splice(0)) job.reject(this.dataMode.refusal(job.p.shown));
    this.emit('dataMode', channel, undefined);
    if (active?.job.p.cmd.dataMode) {
      this.heard(active);
      return this.finish(active, { lines: active.lines, final: 'CONNECT', data: EMPTY, channel });
    }
    // The late CONNECT of a command that already failed: nobody wants the connection, so leave data mode at once.
    this.unknown('CONNECT');
    void channel.escape();
  }

  /** What an error may carry about a command: how it is shown, never its secrets or payload. */
  private context(active: Active, final?: string): QuectelErrorContext {
    return {
      command: active.job.p.shown, ...(final !== undefined ? { final } : {}),
      lines: active.lines.map((l) => this.redactor.line(l)).join(' | '),
    };
  }

  private error(code: 'AT_TIMEOUT' | 'AT_ABORTED' | 'AT_MODULE_RESET' | 'AT_NO_ANSWER', p: PreparedCommand, what: string): QuectelError {
    return new QuectelError(code, `${p.shown}: ${what}`, { command: p.shown });
  }

  private trace(dir: 'in' | 'out', kind: AtTraceEvent['kind'], text?: string, bytes?: Uint8Array, sensitive?: boolean, length?: number): void {
    const hook = this.options.trace;
    if (!hook) return;
    const withBytes = bytes !== undefined && this.options.traceData === true && sensitive !== true;
    hook({
      at: performance.now(), dir, kind, ...(text !== undefined ? { text } : {}),
      length: length ?? bytes?.length ?? text?.length ?? 0, ...(withBytes ? { bytes } : {}),
    });
  }
}

function withDetail(error: QuectelError, line: string | undefined): QuectelError {
  const m = /^\+QIGETERROR:\s*(\d+),\s*(.*)$/.exec(line ?? '');
  if (!m) return error;
  const context: QuectelErrorContext = { ...error.context, qiError: Number(m[1]), qiErrorText: m[2] };
  return new QuectelError('AT_ERROR', `${error.message}: ${m[1]} ${m[2]}`, context);
}

/** Finds a byte pattern in a stream read in chunks (KMP), remembering a partial match across chunks. */
class StreamMatcher {
  private matched = 0;
  private readonly fail: number[];

  constructor(private readonly pattern: Uint8Array) {
    this.fail = [0];
    for (let i = 1, k = 0; i < pattern.length; i++) {
      while (k > 0 && pattern[i] !== pattern[k]) k = this.fail[k - 1]!;
      if (pattern[i] === pattern[k]) k++;
      this.fail.push(k);
    }
  }

  /** Whether the bytes seen so far end with the start of the pattern. */
  get partial(): boolean {
    return this.matched > 0;
  }

  /** Whether the pattern ends somewhere in `chunk`, counting a match begun in earlier chunks. */
  scan(chunk: Uint8Array): boolean {
    let found = false;
    for (const b of chunk) {
      while (this.matched > 0 && b !== this.pattern[this.matched]) this.matched = this.fail[this.matched - 1]!;
      if (b === this.pattern[this.matched]) this.matched++;
      if (this.matched === this.pattern.length) {
        found = true;
        this.matched = this.fail[this.matched - 1]!;
      }
    }
    return found;
  }
}
