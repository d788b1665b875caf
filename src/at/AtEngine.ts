/**
 * The AT command executor: one command in flight, a queue behind it, replies routed by expectation, URCs to
 * subscribers, and a fence after any timeout so that a late `OK` is never credited to the wrong command.
 *
 *   Transport ──bytes──▶ AtFramer ──frames──▶ classifyLine ──▶ reply of the command in flight ──▶ send() resolves
 *       ▲                   ▲ modeAfter(): counted data,            └──▶ URC ──▶ onUrc() subscribers (signal only)
 *       └──── command, payload ◀── queue ◀── send(AtCommand)        └──▶ RDY / POWERED DOWN ──▶ 'reset'
 */
import { EventEmitter } from 'node:events';
import { QuectelError, type QuectelErrorContext } from '../errors.js';
import { CME_ERRORS } from '../protocol/errorCodes.js';
import type { Transport, TransportCloseEvent } from '../transport/Transport.js';
import type { AtCommand, AtReply } from './AtCommand.js';
import { AtFramer, type AtFrame, type FramerMode } from './AtFramer.js';
import { classifyLine, finalKind, URC_PREFIXES } from './classifyLine.js';

/** Options of {@link AtEngine}. */
export interface AtEngineOptions {
  /** Deadline of a command that gives none. Default: 5000 ms. */
  readonly defaultTimeoutMs?: number;
  /** Prefixes that make a line a URC unless the command in flight expects them. Default: {@link URC_PREFIXES}. */
  readonly urcPrefixes?: readonly string[];
  /** Counted data after a URC line, e.g. `+QSSLURC: "recv",<id>,<n>` for a direct-push connection. Default: none. */
  readonly urcDataLength?: (line: string) => number | undefined;
  /** Receives every command, line and payload as it passes, with a timestamp. Default: none. */
  readonly trace?: (event: AtTraceEvent) => void;
  /** Put payload and file bytes into trace events. Default: false (sizes only). */
  readonly traceData?: boolean;
  /** How long the resynchronising `AT+CMEE?` may take, per attempt. Default: 2000 ms. */
  readonly fenceTimeoutMs?: number;
  /** Attempts before queued commands fail with `AT_NO_ANSWER`. Default: 3. */
  readonly fenceAttempts?: number;
}

/** One step seen by the trace hook. Texts of commands and lines; payloads as sizes unless `traceData`. */
export interface AtTraceEvent {
  readonly at: number;
  readonly dir: 'out' | 'in';
  readonly kind: 'command' | 'payload' | 'line' | 'prompt' | 'data';
  readonly text?: string;
  readonly length: number;
  readonly bytes?: Uint8Array;
}

export interface AtEngineEvents {
  urc: [line: string, data: Uint8Array | undefined];
  /** The module announced a (re)start or power-down on its own: `RDY`, `APP RDY`, `POWERED DOWN`. */
  reset: [line: string];
  /** A line nobody expected: logged, never thrown. */
  unknown: [line: string];
  close: [event: TransportCloseEvent];
}

interface Job {
  readonly cmd: AtCommand;
  readonly resolve: (r: AtReply) => void;
  readonly reject: (e: Error) => void;
}

interface Active {
  readonly job: Job;
  readonly lines: string[];
  readonly data: Uint8Array[];
  timer?: NodeJS.Timeout;
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

/** How long after `RDY` an `APP RDY` still belongs to the same boot. */
const BOOT_WINDOW_MS = 30_000;

/** The file download trailer (§6.6): `+QFDWL: <size>,<checksum>`. */
const QFDWL_TRAILER = /\r\n\+QFDWL: (\d+),([0-9A-Fa-f]+)\r\n/;

export class AtEngine extends EventEmitter<AtEngineEvents> {
  private readonly framer: AtFramer;
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
  private stale: AtCommand | undefined;
  private closed = false;
  /** When the last `RDY` came: an `APP RDY` soon after it is the same boot going on, not another restart. */
  private lastRdyAt = Number.NEGATIVE_INFINITY;

  constructor(readonly transport: Transport, private readonly options: AtEngineOptions = {}) {
    super();
    this.framer = new AtFramer({ modeAfter: (line) => this.modeAfter(line) });
    transport.on('data', (chunk) => {
      for (const frame of this.framer.push(chunk)) this.onFrame(frame);
    });
    transport.once('close', (event) => this.shutDown(event));
  }

  /**
   * Queues a command; resolves with its reply once its final result code (and late result) came.
   * @throws QuectelError `AT_CME_ERROR` (with `context.cme`), `AT_ERROR` (with `context.qiError` where asked),
   *   `AT_SEND_FAIL`, `AT_TIMEOUT`, `AT_MODULE_RESET`, `AT_ABORTED`, `AT_NO_ANSWER`, `TRANSPORT_CLOSED`,
   *   `INVALID_ARGUMENT` for a command line holding CR, LF or Ctrl-Z.
   */
  send(cmd: AtCommand): Promise<AtReply> {
    if (/[\r\n\x1a\x1b]/.test(cmd.command)) {
      return Promise.reject(new QuectelError('INVALID_ARGUMENT', 'a command line must not contain CR, LF, Ctrl-Z or ESC'));
    }
    if (this.closed) return Promise.reject(new QuectelError('TRANSPORT_CLOSED', `${this.transport.url} is closed`));
    if (cmd.signal?.aborted) return Promise.reject(this.error('AT_ABORTED', cmd, 'aborted before it was sent'));
    return new Promise<AtReply>((resolve, reject) => {
      const onAbort = () => this.abort(job);
      const settle = () => cmd.signal?.removeEventListener('abort', onAbort);
      const job: Job = {
        cmd,
        resolve: (r) => { settle(); resolve(r); },
        reject: (e) => { settle(); reject(e); },
      };
      this.queue.push(job);
      cmd.signal?.addEventListener('abort', onAbort, { once: true });
      this.pump();
    });
  }

  /** Calls `handler` for every URC whose line starts with `prefix`. Handlers signal; they must not send commands. */
  onUrc(prefix: string, handler: (line: string, data: Uint8Array | undefined) => void): () => void {
    const listener = (line: string, data: Uint8Array | undefined) => {
      if (line.startsWith(prefix)) handler(line, data);
    };
    this.on('urc', listener);
    return () => this.off('urc', listener);
  }

  /** Closes the transport; everything pending fails with `TRANSPORT_CLOSED`. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  // ------------------------------------------------------------------ sending

  private pump(): void {
    if (this.active || this.fence || this.closed) return;
    if (this.needsFence && this.queue.length > 0) return void this.runFence();
    const job = this.queue.shift();
    if (!job) return;
    const cmd = job.cmd;
    const active: Active = { job, lines: [], data: [] };
    this.active = active;
    this.framer.expectPrompt(cmd.payload !== undefined && (cmd.payloadAfter ?? 'prompt') === 'prompt');
    this.trace('out', 'command', cmd.command);
    // The waiter (this.active) is in place before the write. The deadline starts with the write: a write that never
    // completes (CTS held low, a full TCP window) must not leave the command pending for ever.
    active.timer = setTimeout(() => this.timeOut(active), cmd.timeoutMs ?? this.options.defaultTimeoutMs ?? 5000);
    this.transport.write(Buffer.from(`${cmd.command}\r`, 'latin1'))
      .catch((e: unknown) => this.finish(active, e instanceof Error ? e : new Error(String(e))));
  }

  private writePayload(active: Active): void {
    const payload = active.job.cmd.payload!;
    this.trace('out', 'payload', undefined, payload);
    this.transport.write(payload).catch((e: unknown) => this.finish(active, e instanceof Error ? e : new Error(String(e))));
  }

  private timeOut(active: Active): void {
    this.markStale(active);
    this.finish(active, this.error('AT_TIMEOUT', active.job.cmd, 'no final result in time'));
  }

  private abort(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      return job.reject(this.error('AT_ABORTED', job.cmd, 'aborted while queued'));
    }
    if (this.active?.job === job) {
      this.markStale(this.active);
      return this.finish(this.active, this.error('AT_ABORTED', job.cmd, 'aborted in flight'));
    }
    for (const w of this.late) {
      if (w.job === job) {
        clearTimeout(w.timer);
        this.late.delete(w);
        job.reject(this.error('AT_ABORTED', job.cmd, 'aborted while waiting for its result'));
      }
    }
  }

  /** The command in flight gave up waiting; its reply may still come, so fence before the next one. */
  private markStale(active: Active): void {
    this.needsFence = true;
    this.stale = active.job.cmd;
    // Keep watching for its prompt, which would otherwise swallow the resync as payload.
    if (active.job.cmd.payload !== undefined && (active.job.cmd.payloadAfter ?? 'prompt') === 'prompt') {
      queueMicrotask(() => this.framer.expectPrompt(true));
    }
  }

  /** Ends the command in flight with a reply or an error, then runs the next one. */
  private finish(active: Active, outcome: AtReply | Error): void {
    if (this.active !== active) return;
    clearTimeout(active.timer);
    this.active = undefined;
    this.framer.expectPrompt(false);
    if (outcome instanceof Error) active.job.reject(outcome);
    else active.job.resolve(outcome);
    this.pump();
  }

  /** Resynchronises with `AT+CMEE?`: everything before its `+CMEE:` line and the `OK` after it is stale. */
  private async runFence(): Promise<void> {
    const attempts = this.options.fenceAttempts ?? 3;
    for (let n = 0; n < attempts && !this.closed; n++) {
      const query = FENCE_QUERIES[this.fenceSeq++ % FENCE_QUERIES.length]!;
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.options.fenceTimeoutMs ?? 2000);
        this.fence = { query, sawReply: false, done: (v) => { clearTimeout(timer); resolve(v); } };
        this.trace('out', 'command', query.command);
        this.transport.write(Buffer.from(`${query.command}\r`)).catch(() => resolve(false));
      });
      this.fence = undefined;
      if (ok) {
        this.needsFence = false;
        this.stale = undefined;
        return this.pump();
      }
      // Nothing came back: the framer may be stuck counting payload bytes that were lost. Start clean.
      this.framer.reset();
    }
    for (const job of this.queue.splice(0)) job.reject(this.error('AT_NO_ANSWER', job.cmd, 'the module does not answer'));
  }

  // ------------------------------------------------------------------ receiving

  private modeAfter(line: string): FramerMode | undefined {
    const cmd = this.active?.job.cmd ?? this.stale;
    if (cmd?.dataPrefix && line.startsWith(cmd.dataPrefix)) {
      const m = /^\s*(\d+)$/.exec(line.slice(cmd.dataPrefix.length));
      if (m) return { data: Number(m[1]) };
    }
    if (cmd?.download && line === 'CONNECT') return { rawUntil: QFDWL_TRAILER };
    const n = this.options.urcDataLength?.(line);
    return n === undefined ? undefined : { data: n };
  }

  private onFrame(frame: AtFrame): void {
    const active = this.active;
    switch (frame.kind) {
      case 'prompt':
        this.trace('in', 'prompt', '>');
        if (active?.job.cmd.payload) this.writePayload(active);
        // A late prompt for a command that already failed: ESC cancels the send (§4.1) instead of letting the
        // resync's bytes become payload.
        else if (this.stale?.payload) this.transport.write(Uint8Array.of(0x1b)).catch(() => undefined);
        return;
      case 'data':
        this.trace('in', 'data', frame.line, frame.bytes);
        if (active && active.job.cmd.dataPrefix && frame.line.startsWith(active.job.cmd.dataPrefix)) {
          active.lines.push(frame.line);
          active.data.push(frame.bytes);
        } else if (this.stale?.dataPrefix && frame.line.startsWith(this.stale.dataPrefix)) {
          this.emit('unknown', frame.line); // the late reply of a command that already failed
        } else this.emitUrc(frame.line, frame.bytes);
        return;
      case 'raw':
        this.trace('in', 'data', frame.trailer, frame.bytes);
        if (active) {
          active.data.push(frame.bytes);
          active.lines.push(frame.trailer);
        }
        return;
      case 'line':
        this.trace('in', 'line', frame.text);
        return this.onLine(frame.text);
    }
  }

  private onLine(line: string): void {
    // A late result is matched before anything else: its prefix need not be a known URC (`+QPING:`, `+QHTTPGET:`).
    if (this.settleLate(line)) return void this.emit('urc', line, undefined);
    // T08: `APP RDY` follows `RDY` within seconds, inside a reply or a fence: the same boot, not another restart.
    if (line === 'APP RDY' && performance.now() - this.lastRdyAt < BOOT_WINDOW_MS) return this.emitUrc(line, undefined);
    if (this.fence) return this.onFenceLine(line);
    const active = this.active;
    const cmd = active?.job.cmd;
    // CONNECT opens the data phase of QFUPL (host writes) and QFDWL (the framer already switched to raw).
    if (line === 'CONNECT' && active && cmd && (cmd.download || (cmd.payload && cmd.payloadAfter === 'connect'))) {
      if (!cmd.download) this.writePayload(active);
      return;
    }
    const kind = classifyLine(line, cmd, this.options.urcPrefixes ?? URC_PREFIXES);
    if (kind === 'reset') return this.onReset(line);
    if (kind === 'urc') return this.emitUrc(line, undefined);
    if (kind === 'unknown' || !active || !cmd) return void this.emit('unknown', line);
    if (kind === 'echo') return;
    if (kind === 'reply') {
      active.lines.push(line);
      return;
    }
    this.onFinal(active, line);
  }

  private onFinal(active: Active, line: string): void {
    const cmd = active.job.cmd;
    const context = { command: cmd.command, final: line, lines: active.lines.join(' | ') };
    switch (finalKind(line)) {
      case 'ok': {
        const reply = { lines: active.lines, final: line, data: active.data.length === 1 ? active.data[0]! : Buffer.concat(active.data) };
        if (!cmd.lateResult) return this.finish(active, reply);
        const late = cmd.lateResult;
        const w: LateWaiter = {
          prefix: late.prefix, job: active.job, reply,
          timer: setTimeout(() => {
            this.late.delete(w);
            active.job.reject(this.error('AT_TIMEOUT', cmd, `no ${late.prefix} after OK`));
          }, late.timeoutMs),
        };
        this.late.add(w);
        // The queue moves on: the module takes other commands while it works on this one.
        this.active = undefined;
        clearTimeout(active.timer);
        return this.pump();
      }
      case 'cme': {
        const text = line.slice('+CME ERROR:'.length).trim();
        const cme = /^\d+$/.test(text) ? Number(text) : undefined;
        const meaning = cme === undefined ? text : (CME_ERRORS[cme] ?? 'unknown error');
        return this.finish(active, new QuectelError('AT_CME_ERROR', `${cmd.command}: +CME ERROR ${text} (${meaning})`, { ...context, cme }));
      }
      case 'send-fail':
        return this.finish(active, new QuectelError('AT_SEND_FAIL', `${cmd.command}: the module's send buffer is full`, context));
      default: {
        const error = new QuectelError('AT_ERROR', `${cmd.command} answered ${line}`, context);
        if (!cmd.qiErrorDetail) return this.finish(active, error);
        // Ask for the detail before anything else runs; the command fails either way.
        const job = active.job;
        this.queue.unshift({
          cmd: { command: 'AT+QIGETERROR', expect: ['+QIGETERROR:'] },
          resolve: (r) => job.reject(withDetail(error, r.lines[0])),
          reject: () => job.reject(error),
        });
        this.active = undefined;
        clearTimeout(active.timer);
        this.framer.expectPrompt(false);
        return this.pump();
      }
    }
  }

  private onFenceLine(line: string): void {
    const fence = this.fence!;
    const kind = classifyLine(line, { command: fence.query.command, expect: [fence.query.prefix] }, this.options.urcPrefixes ?? URC_PREFIXES);
    if (kind === 'reset') return this.onReset(line);
    if (kind === 'urc') return this.emitUrc(line, undefined);
    if (kind === 'reply' && line.startsWith(fence.query.prefix)) this.fence!.sawReply = true;
    else if (kind === 'final' && line === 'OK' && this.fence!.sawReply) this.fence!.done(true);
    else this.emit('unknown', line); // stale: the late answer of whatever timed out
  }

  private emitUrc(line: string, data: Uint8Array | undefined): void {
    this.emit('urc', line, data);
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

  private onReset(line: string): void {
    if (line === 'RDY') this.lastRdyAt = performance.now();
    const active = this.active;
    if (active) {
      // Its answer may still come (T08: `RDY` glued before the reply to a command written at boot): fence it off.
      this.needsFence = true;
      this.finish(active, this.error('AT_MODULE_RESET', active.job.cmd, `the module restarted (${line})`));
    }
    for (const w of this.late) {
      clearTimeout(w.timer);
      w.job.reject(this.error('AT_MODULE_RESET', w.job.cmd, `the module restarted (${line})`));
    }
    this.late.clear();
    this.emit('reset', line);
  }

  private shutDown(event: TransportCloseEvent): void {
    this.closed = true;
    const error = new QuectelError('TRANSPORT_CLOSED', `${this.transport.url} closed (${event.reason})`, { reason: event.reason }, { cause: event.error });
    if (this.active) {
      clearTimeout(this.active.timer);
      this.active.job.reject(error);
      this.active = undefined;
    }
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const w of this.late) {
      clearTimeout(w.timer);
      w.job.reject(error);
    }
    this.late.clear();
    this.fence?.done(false);
    this.emit('close', event);
  }

  private error(code: 'AT_TIMEOUT' | 'AT_ABORTED' | 'AT_MODULE_RESET' | 'AT_NO_ANSWER', cmd: AtCommand, what: string): QuectelError {
    return new QuectelError(code, `${cmd.command}: ${what}`, { command: cmd.command });
  }

  private trace(dir: 'in' | 'out', kind: AtTraceEvent['kind'], text?: string, bytes?: Uint8Array): void {
    const hook = this.options.trace;
    if (!hook) return;
    const withBytes = bytes !== undefined && this.options.traceData === true;
    hook({ at: performance.now(), dir, kind, ...(text !== undefined ? { text } : {}), length: bytes?.length ?? text?.length ?? 0, ...(withBytes ? { bytes } : {}) });
  }
}

function withDetail(error: QuectelError, line: string | undefined): QuectelError {
  const m = /^\+QIGETERROR:\s*(\d+),\s*(.*)$/.exec(line ?? '');
  if (!m) return error;
  const context: QuectelErrorContext = { ...error.context, qiError: Number(m[1]), qiErrorText: m[2] };
  return new QuectelError('AT_ERROR', `${error.message}: ${m[1]} ${m[2]}`, context);
}

