/**
 * A {@link Transport} that plays a script of host commands and module replies, byte for byte, for unit tests of
 * anything that speaks AT (lessons.md §12.1–2): URCs glued into replies, replies cut into 1-byte or random reads,
 * a pulled cable. Unlike the emulator it knows nothing of AT; it only checks the host's bytes against the script.
 *
 * Timing: the script starts when the first `'data'` listener is attached or the host first writes, whichever
 * comes first. Data events go out on microtasks (never inside `write()`), which vitest fake timers leave alone, so
 * a script runs under fake timers; only `delayMs` uses `setTimeout`, for `vi.advanceTimersByTimeAsync` to drive.
 */
import type { EventEmitter } from 'node:events';
import { QuectelError } from '../errors.js';
import { closedError, LinkTransport } from '../transport/LinkTransport.js';
import type { Transport, TransportCloseReason } from '../transport/Transport.js';

/** Bytes in a script: a Uint8Array, or a latin1 string (one char is one byte, `'\x1a'` is Ctrl-Z; never UTF-8). */
export type ScriptBytes = string | Uint8Array;

/** One piece of what the module sends: bytes, a pause, or the link going away (only as the last part). */
export type ScriptReplyPart = ScriptBytes | { readonly delayMs: number } | { readonly close: 'disconnected' | 'error' };

/** What the module sends: bytes, or parts played in order. */
export type ScriptReply = ScriptBytes | readonly ScriptReplyPart[];

/** One step of a script; steps run in order, each after the previous one finished playing. */
export type ScriptStep =
  /** Waits for the host to write exactly these bytes or, for a RegExp, a CR-ended line matching it; then sends `reply`. */
  | { readonly expect: ScriptBytes | RegExp; readonly reply?: ScriptReply; readonly label?: string }
  /** Sends bytes without waiting for the host: URCs, a boot banner, `RDY` out of nothing. */
  | { readonly emit: ScriptReply; readonly label?: string }
  /** Sends nothing for a while (a module that does not answer). */
  | { readonly delayMs: number; readonly label?: string };

/** How replies are cut into `'data'` events. */
export type ScriptChunking = 'whole' | 'bytes' | { readonly min: number; readonly max: number; readonly seed?: number };

/** How to build a {@link ScriptedPort}. */
export interface ScriptedPortOptions {
  /** The URL reported as {@link Transport.url} and in messages. Default: `'scripted:'`. */
  readonly url?: string;
  /**
   * How each bytes part of a reply is cut into `'data'` events: `'whole'` (one event per part), `'bytes'` (one per
   * byte), or random sizes from `min` to `max` drawn from a PRNG seeded with `seed` (Default: 1), so a failing cut
   * repeats. Default: `'whole'`.
   */
  readonly chunking?: ScriptChunking;
}

/** How long {@link ScriptedPort.done} waits for the script to finish when the caller names no timeout. */
export const DEFAULT_DONE_TIMEOUT_MS = 2000;

type Part = { readonly bytes: Buffer } | { readonly delayMs: number } | { readonly close: 'disconnected' | 'error' };
interface Step {
  readonly expect: Buffer | RegExp | undefined;
  readonly parts: readonly Part[];
  readonly label: string | undefined;
  /** The label, or a rendering of the step. */
  readonly name: string;
}

const CR = 0x0d;

/**
 * A scripted module on a fake serial line. A host byte the script does not expect fails the script: the write
 * rejects with `SCRIPT_MISMATCH`, so does every later write, nothing more is sent, and {@link done} rejects.
 * Host bytes written while emits ahead of their expect still play wait for it, as a module's UART buffer would;
 * so a command sent before a head `emit` went out meets it mid-command (RDY then reads as a reset).
 *
 * @example
 * ```ts
 * const port = new ScriptedPort([
 *   { emit: '\r\nRDY\r\n' },
 *   { expect: 'ATE0\r', reply: 'ATE0\r\r\nOK\r\n' },
 *   { expect: /^AT\+QSSLOPEN=/, reply: ['\r\nOK\r\n', { delayMs: 20 }, '\r\n+QSSLOPEN: 1,0\r\n'] },
 * ], { chunking: 'bytes' });
 * const at = await AtClient.open(port);
 * await once(at.engine, 'reset'); // the RDY
 * await at.send('ATE0');
 * await at.send('AT+QSSLOPEN=1,1,1,"example.com",443,0');
 * await port.done(); // rejects naming the first unexpected bytes, or the steps never played
 * ```
 */
export class ScriptedPort extends LinkTransport implements Transport {
  private readonly steps: Step[] = [];
  /** 1-based number of `steps[0]` in the whole script, for messages. */
  private headNumber = 1;
  private readonly log: Buffer[] = [];
  /** Host bytes not yet consumed by an expect step. */
  private pending: Buffer = Buffer.alloc(0);
  private started = false;
  /** True while `steps[0]` plays; it leaves the queue once played. */
  private playing = false;
  private failure: QuectelError | undefined;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly waiters = new Set<() => void>();
  private readonly nextSize: () => number;

  constructor(script: readonly ScriptStep[], options: ScriptedPortOptions = {}) {
    super(options.url ?? 'scripted:');
    this.nextSize = sizer(options.chunking ?? 'whole');
    this.steps.push(...script.map((step, i) => normalize(step, i + 1)));
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'data') this.start();
    });
  }

  get isOpen(): boolean {
    return !this.finished && !this.closeRequested;
  }

  /** Everything the host wrote while the port was open, in order, including bytes that failed the script. */
  get written(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.log));
  }

  /** Host → module. Rejects with `SCRIPT_MISMATCH` once the script failed, `TRANSPORT_CLOSED` after close. */
  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(closedError(this.url));
    if (this.failure) return Promise.reject(this.failure);
    if (data.length === 0) return Promise.resolve();
    const bytes = Buffer.from(data);
    this.log.push(bytes);
    this.pending = Buffer.concat([this.pending, bytes]);
    this.check();
    this.start();
    this.pump();
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }

  /**
   * Resolves once every step was played (and every expect matched); rejects with `SCRIPT_MISMATCH` for the first
   * unexpected host bytes, or `SCRIPT_INCOMPLETE` when the port closed or `timeoutMs` passed (Default:
   * {@link DEFAULT_DONE_TIMEOUT_MS}; `Infinity` waits for ever; a `setTimeout`, so fake timers must reach it) with
   * steps left, which the message lists.
   */
  done(timeoutMs = DEFAULT_DONE_TIMEOUT_MS): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = (): void => {
        const verdict = this.failure ?? (this.steps.length === 0 ? 'played' : this.isOpen ? undefined : this.incomplete('the port closed'));
        if (verdict === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        if (verdict === 'played') resolve();
        else reject(verdict);
      };
      this.waiters.add(check);
      check();
      if (!this.waiters.has(check) || !Number.isFinite(timeoutMs)) return;
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(this.failure ?? this.incomplete(`not finished after ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** The steps not played yet (the one playing included), each as its label or a rendering, for assertion messages. */
  remaining(): string[] {
    return this.steps.map((step) => step.name);
  }

  /** Appends steps while the script runs, for interactive tests; throws `TRANSPORT_CLOSED` once the port closed. */
  push(...steps: ScriptStep[]): void {
    if (!this.isOpen) throw closedError(this.url);
    const first = this.headNumber + this.steps.length;
    this.steps.push(...steps.map((step, i) => normalize(step, first + i)));
    if (this.started) queueMicrotask(() => this.pump());
  }

  protected tearDown(): void {
    this.finish('closed');
  }

  protected override finish(reason: TransportCloseReason, error?: Error): void {
    this.stopTimers();
    super.finish(reason, error);
    this.notify();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    queueMicrotask(() => this.pump());
  }

  private get halted(): boolean {
    return this.failure !== undefined || !this.isOpen;
  }

  /** Starts the head step (once an expect matched the host's bytes); the next one follows when it has played. */
  private pump(): void {
    const step = this.steps[0];
    if (!this.started || this.playing || this.halted || step === undefined) return this.notify();
    if (step.expect !== undefined) {
      const verdict = this.evaluate(step.expect, 0);
      if (verdict instanceof QuectelError) return this.fail(verdict);
      if (verdict === 'wait') return;
      this.pending = this.pending.subarray(verdict);
    }
    this.playing = true;
    void this.play(step.parts).then(() => {
      if (this.halted) return;
      this.playing = false;
      this.steps.shift();
      this.headNumber++;
      this.pump();
    });
    if (this.pending.length > 0) this.check();
  }

  private async play(parts: readonly Part[]): Promise<void> {
    for (const part of parts) {
      if ('bytes' in part) {
        for (let at = 0; at < part.bytes.length; ) {
          await Promise.resolve();
          if (this.halted) return;
          const end = Math.min(part.bytes.length, at + this.nextSize());
          this.emit('data', new Uint8Array(part.bytes.subarray(at, end)));
          at = end;
        }
      } else if ('delayMs' in part) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => (this.timers.delete(timer), resolve()), part.delayMs);
          this.timers.add(timer);
        });
      } else {
        // The step counts as played: a script that ends with the link going away is complete.
        this.steps.shift();
        this.headNumber++;
        return this.finish(part.close, part.close === 'error' ? new Error(`scripted link failure on ${this.url}`) : undefined);
      }
    }
    await Promise.resolve();
  }

  /** Checks the unconsumed host bytes against the next expect step ahead, so a wrong byte fails at once. */
  private check(): void {
    if (this.failure || this.pending.length === 0) return;
    const from = this.playing ? 1 : 0;
    const index = this.steps.findIndex((step, i) => i >= from && step.expect !== undefined);
    const step = this.steps[index];
    if (step?.expect === undefined) {
      const next = this.steps[from] ? `the next step is ${this.steps[from].name}` : 'the script has no steps left';
      return this.fail(mismatch(this.url, `host wrote ${show(this.pending)} but no command is expected: ${next}`, this.headNumber + from));
    }
    const verdict = this.evaluate(step.expect, index);
    if (verdict instanceof QuectelError) this.fail(verdict);
  }

  /** How many pending bytes `expect` consumes, `'wait'` for more bytes, or the mismatch. */
  private evaluate(expect: Buffer | RegExp, index: number): number | 'wait' | QuectelError {
    const have = this.pending;
    let ok: boolean;
    let used: number;
    if (expect instanceof RegExp) {
      used = have.indexOf(CR) + 1;
      if (used === 0) return 'wait';
      expect.lastIndex = 0;
      ok = expect.test(have.subarray(0, used - 1).toString('latin1'));
    } else {
      used = Math.min(expect.length, have.length);
      ok = have.subarray(0, used).equals(expect.subarray(0, used));
      if (ok && used < expect.length) return 'wait';
    }
    if (ok) return used;
    const step = this.steps[index]!;
    const wanted = expect instanceof RegExp ? `a line matching ${String(expect)}` : show(expect);
    const label = step.label === undefined ? '' : ` (${step.label})`;
    const actual = show(expect instanceof RegExp ? have.subarray(0, used) : have);
    const message = `host wrote ${actual} where step ${this.headNumber + index}${label} expected ${wanted}`;
    return mismatch(this.url, message, this.headNumber + index, step.label);
  }

  /** Records the first failure; nothing more is sent. */
  private fail(error: QuectelError): void {
    this.failure ??= error;
    this.stopTimers();
    this.notify();
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private incomplete(why: string): QuectelError {
    const left = this.remaining();
    const message = `${why} with ${left.length} step(s) left: ${left.join('; ')}`;
    return new QuectelError('SCRIPT_INCOMPLETE', message, { url: this.url, left: left.length });
  }
}

function mismatch(url: string, message: string, step: number, label?: string): QuectelError {
  return new QuectelError('SCRIPT_MISMATCH', message, { url, step, label });
}

const ESCAPES: Readonly<Record<number, string>> = { 0x0d: '\\r', 0x0a: '\\n', 0x5c: '\\\\', 0x22: '\\"' };

/** Bytes as a quoted string with `\r`, `\n`, `\\`, `\"` and `\xHH` escapes, cut after `max` bytes. */
function show(bytes: Uint8Array, max = 64): string {
  const escape = (b: number): string => ESCAPES[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`);
  return `"${Array.from(bytes.subarray(0, max), escape).join('')}"${bytes.length > max ? `… (${bytes.length} bytes)` : ''}`;
}

function invalid(message: string): QuectelError {
  return new QuectelError('INVALID_ARGUMENT', `ScriptedPort: ${message}`);
}

function toBytes(data: ScriptBytes, where: string): Buffer {
  if (typeof data !== 'string') return Buffer.from(data);
  if (/[^\x00-\xff]/.test(data)) throw invalid(`${where} has a character above \\xff; script strings are latin1, one char per byte`);
  return Buffer.from(data, 'latin1');
}

function normalize(step: ScriptStep, number: number): Step {
  const where = `step ${number}`;
  const parts = (reply: ScriptReply | undefined): Part[] => {
    const list = reply === undefined ? [] : typeof reply === 'string' || reply instanceof Uint8Array ? [reply] : reply;
    return list.map((part, i) => {
      if (typeof part === 'string' || part instanceof Uint8Array) return { bytes: toBytes(part, where) };
      if ('close' in part && i !== list.length - 1) throw invalid(`${where}: a close part must be the last part`);
      if ('delayMs' in part && !(part.delayMs >= 0 && part.delayMs < Infinity)) throw invalid(`${where}: delayMs must be finite and >= 0`);
      return part;
    });
  };
  if ('expect' in step) {
    const expect = step.expect instanceof RegExp ? step.expect : toBytes(step.expect, where);
    const name = step.label ?? `expect ${expect instanceof RegExp ? String(expect) : show(expect, 32)}`;
    return { expect, parts: parts(step.reply), label: step.label, name };
  }
  if ('emit' in step) {
    const list = parts(step.emit);
    const first = list.find((part): part is { bytes: Buffer } => 'bytes' in part);
    return { expect: undefined, parts: list, label: step.label, name: step.label ?? `emit ${first ? show(first.bytes, 32) : '(no bytes)'}` };
  }
  return { expect: undefined, parts: parts([{ delayMs: step.delayMs }]), label: step.label, name: step.label ?? `wait ${step.delayMs} ms` };
}

/** The size of each `'data'` event for a chunking option. */
function sizer(chunking: ScriptChunking): () => number {
  if (chunking === 'whole') return () => Infinity;
  if (chunking === 'bytes') return () => 1;
  const { min, max, seed = 1 } = chunking;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max >= min)) throw invalid('chunking needs integers 1 <= min <= max');
  // mulberry32: small, fast and good enough to cut bytes; the same seed gives the same cuts.
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return min + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (max - min + 1));
  };
}
