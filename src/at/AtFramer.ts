/**
 * Bytes from the module → frames, with explicit modes (lessons.md §10.2):
 *
 *   line      CR LF ended text; blank lines between frames are dropped; trailing CRs (the echo's `AT\r\r\n`) stripped
 *   prompt    a `>` at the start of a line, only while the command in flight waits for one (T09: `\r\n> `, no line end)
 *   data      exactly N raw bytes after a line that announced them (`+QSSLRECV: N`, `+QIRD: N`, a push URC)
 *   download  the file after `CONNECT` of AT+QFDWL, up to the `+QFDWL: <size>,<checksum>` trailer whose size and
 *             checksum both match the bytes before it (a file may contain trailer-like text: a log, a PEM bundle)
 *   raw       transparent data mode (after `CONNECT` of `AT+QSSLOPEN=…,2`, `ATO`, `AT+QISWTMD`): every byte is the
 *             connection's, except the result codes that end data mode, which arrive in band (`\r\nNO CARRIER\r\n`,
 *             the `\r\nOK\r\n` after an escape, `\r\nRDY\r\n`). A marker found in the data is a candidate only: the
 *             bytes after it are held until the engine confirms it (the line fell silent, or only URCs followed) or
 *             refutes it (something that is no URC followed: the marker was data, and is delivered as such). The end
 *             of a chunk that could be the start of a marker is held back too, until more bytes decide or the engine
 *             releases it ({@link AtFramer.releaseRaw}).
 *   echo      the module repeating a payload the host just wrote (ATE1 with QISDE=1, or a BG95 upload, §6): taken
 *             while it matches the payload byte for byte, and kept only if the line after it is one the command can
 *             be answered with (a payload `+` is not the echo of the `+` of `+QFUPL: 1,2b00`); otherwise the bytes
 *             are read again as lines
 *
 * Which lines announce data is decided by the engine, synchronously, through {@link FramerHooks.modeAfter}: the
 * same text can be payload or a line depending on the command in flight. The line parser never runs over payload.
 *
 * Cost is linear in the bytes received, whatever the read sizes: a partial line or payload is kept as a list of
 * pieces and joined once when complete, LF is searched only in new bytes, and the download checksum is folded in as
 * bytes arrive. A line is bounded ({@link FramerOptions.maxLineLength}); past it the rest of the line is dropped and
 * an `overflow` frame says so.
 */
import { ChecksumAccumulator, parseChecksum } from '../protocol/checksum.js';

/** One unit the engine acts on. Line text is latin1, so every byte maps to one character and nothing is lost. */
export type AtFrame =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'prompt' }
  | { readonly kind: 'data'; readonly line: string; readonly bytes: Uint8Array }
  | { readonly kind: 'download'; readonly bytes: Uint8Array; readonly trailer: string }
  /** A payload echo, consumed whole. */
  | { readonly kind: 'echo'; readonly length: number }
  /** Transparent data mode: bytes of the connection. */
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  /** Transparent data mode: a marker (its text, e.g. `NO CARRIER`) was found; the engine confirms or refutes it. */
  | { readonly kind: 'marker'; readonly text: string }
  /** A line or download went past its bound; its bytes were dropped. */
  | { readonly kind: 'overflow'; readonly what: 'line' | 'download'; readonly limit: number };

/**
 * What follows a line: N counted bytes, a file up to its trailer (`+QFDWL: `), or transparent data up to one of the
 * marker texts (`NO CARRIER`: matched as `\r\nNO CARRIER\r\n`).
 */
export type FramerMode =
  | { readonly data: number }
  | { readonly download: { readonly trailer: string } }
  | { readonly raw: { readonly markers: readonly string[] } };

export interface FramerHooks {
  /** Called for every complete line before it becomes a frame; a mode makes the bytes after it payload. */
  modeAfter(line: string): FramerMode | undefined;
  /**
   * Whether `line`, complete after a marker in transparent data, is something the module says in command mode (a
   * URC, a restart). False refutes the marker at once. Default: no line does.
   */
  plausibleAfterMarker?(line: string): boolean;
  /** Whether `line`, the first line after what matched a payload, shows that it was the payload's echo. Default: yes. */
  confirmEcho?(line: string): boolean;
  /** Receives every frame, in order, as it completes. */
  frame(frame: AtFrame): void;
}

/** Options of {@link AtFramer}. */
export interface FramerOptions {
  /** Longest line kept; the rest of a longer one is dropped. Default: 65536 bytes. */
  readonly maxLineLength?: number;
  /** Largest download kept; past it the download is abandoned. Default: 64 MiB. */
  readonly maxDownloadLength?: number;
}

export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;
export const DEFAULT_MAX_DOWNLOAD_LENGTH = 64 * 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const GT = 0x3e;
const SPACE = 0x20;
const EMPTY = new Uint8Array(0);
/** Longest trailer line after its prefix: `<size up to 10 digits>,<4 hex digits>\r`. */
const TRAILER_TAIL_MAX = 24;

interface DataState { readonly line: string; readonly need: number; readonly bytes: ByteSink }
interface DownloadState {
  readonly marker: Buffer;
  readonly file: ByteSink;
  readonly sum: ChecksumAccumulator;
  /** Bytes not yet known to be file content: a possible start of the trailer. */
  tail: Uint8Array;
  /** The last two bytes folded into the file, to recognise the CR LF that precedes the trailer (-1: none). */
  last: number;
  beforeLast: number;
}
interface RawState {
  markers: Buffer[];
  /** The end of the last chunk, which could be the start of a marker. */
  held: Uint8Array;
  /** A marker found, and the bytes after it while the engine decides. */
  candidate?: { readonly marker: Buffer; readonly after: ByteSink };
}
interface EchoState {
  readonly payload: Uint8Array;
  matched: number;
  /** The bytes after a whole match, up to the end of the line that confirms or refutes it. */
  after?: ByteSink;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/**
 * Collects bytes that arrive in pieces of any size into a few large blocks: each byte is copied once, and a
 * million one-byte reads make a few blocks, not a million array entries.
 */
class ByteSink {
  private blocks: Buffer[] = [];
  private block: Buffer = Buffer.alloc(0);
  private used = 0;
  length = 0;

  /** Copies in `bytes`, or only its bytes from `from` up to `to` (no view is made: views cost more than bytes). */
  append(bytes: Uint8Array, from = 0, to = bytes.length): void {
    let i = from;
    while (i < to) {
      if (this.used === this.block.length) {
        if (this.used > 0) this.blocks.push(this.block);
        this.block = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(256, this.length, to - i)));
        this.used = 0;
      }
      const n = Math.min(to - i, this.block.length - this.used);
      if (n === 1) this.block[this.used] = bytes[i]!;
      else this.block.set(bytes.subarray(i, i + n), this.used);
      this.used += n;
      i += n;
    }
    this.length += to - from;
  }

  /** The first `size` bytes collected (default: all), as one new buffer. */
  take(size = this.length): Buffer {
    const all = [...this.blocks, this.block.subarray(0, this.used)];
    return all.length === 1 && size === this.used ? Buffer.from(all[0]!.subarray(0, size)) : Buffer.concat(all, size);
  }
}

/** Where `marker` starts in `bytes` at or after `from`, or -1 (Uint8Array.indexOf takes one byte only). */
function indexOfBytes(bytes: Uint8Array, marker: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(marker[0]!, from); i >= 0 && i + marker.length <= bytes.length; i = bytes.indexOf(marker[0]!, i + 1)) {
    let j = 1;
    while (j < marker.length && bytes[i + j] === marker[j]) j++;
    if (j === marker.length) return i;
  }
  return -1;
}

export class AtFramer {
  private readonly maxLine: number;
  private readonly maxDownload: number;
  private mode: 'line' | 'data' | 'download' | 'echo' | 'raw' = 'line';
  private lineParts = new ByteSink();
  private lineLength = 0;
  /** Dropping the rest of an overlong line, up to its LF. */
  private skipping = false;
  private promptArmed = false;
  private afterPrompt = false;
  private data: DataState | undefined;
  private download: DownloadState | undefined;
  private echo: EchoState | undefined;
  private raw: RawState | undefined;

  constructor(private readonly hooks: FramerHooks, options: FramerOptions = {}) {
    this.maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.maxDownload = options.maxDownloadLength ?? DEFAULT_MAX_DOWNLOAD_LENGTH;
  }

  /** Arms (or disarms) prompt detection: a `>` at the start of a line is then the send prompt, once. */
  expectPrompt(on: boolean): void {
    this.promptArmed = on;
  }

  /** The host just wrote `payload`; if the module repeats it next, consume it as an echo. */
  expectEcho(payload: Uint8Array): void {
    if (this.mode !== 'line' || payload.length === 0) return;
    this.mode = 'echo';
    this.echo = { payload, matched: 0 };
  }

  /** Whether bytes now go into counted data or a download rather than lines (where a restart's banner hides). */
  get swallowing(): boolean {
    return this.mode === 'data' || this.mode === 'download';
  }

  /** Whether bytes go to the connection of a transparent data mode. */
  get inRaw(): boolean {
    return this.mode === 'raw';
  }

  /** Bytes of transparent data held back as the possible start of a marker. */
  get rawHeld(): number {
    return this.raw && !this.raw.candidate ? this.raw.held.length : 0;
  }

  /** Changes the markers that end transparent data (the engine adds `OK` once an escape can have been answered). */
  setRawMarkers(markers: readonly string[]): void {
    if (this.raw) this.raw.markers = markers.map(markerBytes);
  }

  /** Delivers the bytes held back as a possible marker start: the line stayed silent, so they were data. */
  releaseRaw(): void {
    const r = this.raw;
    if (!r || r.candidate || r.held.length === 0) return;
    const held = r.held;
    r.held = EMPTY;
    this.hooks.frame({ kind: 'raw', bytes: held });
  }

  /** The candidate marker ends data mode: what came after it is read as lines. */
  confirmMarker(): void {
    const c = this.raw?.candidate;
    if (!c) return;
    this.raw = undefined;
    this.mode = 'line';
    const after = c.after.take();
    if (after.length > 0) this.push(after);
  }

  /** The candidate marker was data: it and what followed it are delivered as data (and searched again). */
  refuteMarker(): void {
    const r = this.raw;
    const c = r?.candidate;
    if (!r || !c) return;
    r.candidate = undefined;
    this.hooks.frame({ kind: 'raw', bytes: c.marker.subarray(0, 1) });
    this.pushRaw(Buffer.concat([c.marker.subarray(1), c.after.take()]), 0);
  }

  /** Whether a line, payload, download or echo is incomplete. */
  get partial(): boolean {
    return this.mode !== 'line' || this.lineLength > 0 || this.skipping;
  }

  /** Drops everything buffered (after a reset or reopen) and returns to line mode. */
  reset(): void {
    this.mode = 'line';
    this.lineParts = new ByteSink();
    this.lineLength = 0;
    this.skipping = false;
    this.promptArmed = false;
    this.afterPrompt = false;
    this.data = undefined;
    this.download = undefined;
    this.echo = undefined;
    this.raw = undefined;
  }

  /** Takes the next chunk; frames go to {@link FramerHooks.frame} as they complete. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this.mode) {
        case 'line': i = this.pushLine(chunk, i); break;
        case 'data': i = this.pushData(chunk, i); break;
        case 'download': i = this.pushDownload(chunk, i); break;
        case 'echo': i = this.pushEcho(chunk, i); break;
        case 'raw': i = this.pushRaw(chunk, i); break;
      }
    }
  }

  private pushLine(chunk: Uint8Array, start: number): number {
    let i = start;
    if (this.lineLength === 0 && !this.skipping) {
      while (i < chunk.length && (chunk[i] === CR || chunk[i] === LF)) i++;
      if (i < chunk.length && this.afterPrompt) {
        this.afterPrompt = false;
        if (chunk[i] === SPACE) i++;
      }
      if (i >= chunk.length) return i;
      if (chunk[i] === GT && this.promptArmed) {
        this.promptArmed = false;
        this.afterPrompt = true;
        this.hooks.frame({ kind: 'prompt' });
        return i + 1;
      }
    }
    const lf = chunk.indexOf(LF, i);
    const end = lf < 0 ? chunk.length : lf;
    if (this.skipping) {
      if (lf >= 0) this.skipping = false;
      return lf < 0 ? chunk.length : lf + 1;
    }
    // The bound is on the text; a line's raw bytes may also hold the CRs before its LF (`AT\r\r\n`).
    if (this.lineLength + (end - i) > this.maxLine + 2) {
      this.lineParts = new ByteSink();
      this.lineLength = 0;
      this.skipping = lf < 0;
      this.hooks.frame({ kind: 'overflow', what: 'line', limit: this.maxLine });
      return lf < 0 ? chunk.length : lf + 1;
    }
    if (lf < 0) {
      this.lineParts.append(chunk, i);
      this.lineLength += chunk.length - i;
      return chunk.length;
    }
    let bytes: Uint8Array;
    if (this.lineLength === 0) bytes = chunk.subarray(i, lf);
    else {
      this.lineParts.append(chunk, i, lf);
      bytes = this.lineParts.take();
      this.lineParts = new ByteSink();
    }
    this.lineLength = 0;
    let n = bytes.length;
    while (n > 0 && bytes[n - 1] === CR) n--;
    bytes = bytes.subarray(0, n);
    if (n > this.maxLine) this.hooks.frame({ kind: 'overflow', what: 'line', limit: this.maxLine });
    else if (n > 0) this.completeLine(latin1(bytes));
    return lf + 1;
  }

  private completeLine(text: string): void {
    const mode = this.hooks.modeAfter(text);
    if (mode === undefined) return this.hooks.frame({ kind: 'line', text });
    if ('raw' in mode) {
      // Raw from here on, already while the engine takes the line (it may change the markers at once).
      this.mode = 'raw';
      this.raw = { markers: mode.raw.markers.map(markerBytes), held: EMPTY };
      this.hooks.frame({ kind: 'line', text });
      return;
    }
    if ('data' in mode) {
      if (mode.data === 0) return this.hooks.frame({ kind: 'data', line: text, bytes: EMPTY });
      this.mode = 'data';
      this.data = { line: text, need: mode.data, bytes: new ByteSink() };
      return;
    }
    this.hooks.frame({ kind: 'line', text });
    this.mode = 'download';
    this.download = {
      marker: Buffer.from(mode.download.trailer, 'latin1'), file: new ByteSink(), sum: new ChecksumAccumulator(), tail: EMPTY, last: -1, beforeLast: -1,
    };
  }

  private pushData(chunk: Uint8Array, i: number): number {
    const s = this.data!;
    const take = Math.min(s.need - s.bytes.length, chunk.length - i);
    s.bytes.append(chunk, i, i + take);
    if (s.bytes.length === s.need) {
      this.mode = 'line';
      this.data = undefined;
      this.hooks.frame({ kind: 'data', line: s.line, bytes: s.bytes.take() });
    }
    return i + take;
  }

  private pushRaw(chunk: Uint8Array, start: number): number {
    const r = this.raw!;
    if (r.candidate) {
      this.collectAfterMarker(r, chunk.subarray(start));
      return chunk.length;
    }
    const buf = r.held.length === 0 ? chunk.subarray(start) : Buffer.concat([r.held, chunk.subarray(start)]);
    r.held = EMPTY;
    let at = -1;
    let found: Buffer | undefined;
    for (const m of r.markers) {
      const i = indexOfBytes(buf, m, 0);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
        found = m;
      }
    }
    if (found) {
      if (at > 0) this.hooks.frame({ kind: 'raw', bytes: Uint8Array.prototype.slice.call(buf, 0, at) });
      r.candidate = { marker: found, after: new ByteSink() };
      this.hooks.frame({ kind: 'marker', text: latin1(found).trim() });
      // The frame hook may have settled it already (refuted, or confirmed and left raw mode).
      const rest = buf.subarray(at + found.length);
      if (rest.length > 0) {
        if (this.raw === r && r.candidate) this.collectAfterMarker(r, rest);
        else this.push(rest);
      }
      return chunk.length;
    }
    const keep = Math.max(0, ...r.markers.map((m) => partialMarkerAt(buf, m, 0)));
    if (buf.length > keep) this.hooks.frame({ kind: 'raw', bytes: Uint8Array.prototype.slice.call(buf, 0, buf.length - keep) });
    r.held = keep > 0 ? Uint8Array.prototype.slice.call(buf, buf.length - keep) : EMPTY;
    return chunk.length;
  }

  /** Bytes after a candidate marker: refuted as soon as a complete line is not something command mode would say. */
  private collectAfterMarker(r: RawState, bytes: Uint8Array): void {
    const c = r.candidate!;
    c.after.append(bytes);
    const text = latin1(c.after.take());
    const lines = text.split('\n');
    const complete = lines.slice(0, -1).map((l) => l.replace(/\r+$/, '')).filter((l) => l !== '');
    const plausible = this.hooks.plausibleAfterMarker ?? (() => false);
    if (complete.some((l) => !plausible(l)) || lines.at(-1)!.length > this.maxLine) this.refuteMarker();
  }

  private pushEcho(chunk: Uint8Array, start: number): number {
    const e = this.echo!;
    let i = start;
    if (e.after === undefined) {
      // The space that ends a send prompt comes before anything the module echoes.
      if (this.afterPrompt && e.matched === 0 && chunk[i] === SPACE) {
        this.afterPrompt = false;
        i++;
      }
      while (i < chunk.length && e.matched < e.payload.length && chunk[i] === e.payload[e.matched]) {
        i++;
        e.matched++;
      }
      if (e.matched < e.payload.length) {
        if (i === chunk.length) return i;
        return this.notAnEcho(e, EMPTY, i);
      }
      e.after = new ByteSink();
    }
    // A whole match: read on to the end of the next line, which must be one the command can answer with.
    const lf = chunk.indexOf(LF, i);
    e.after.append(chunk, i, lf < 0 ? chunk.length : lf + 1);
    const next = lf < 0 ? chunk.length : lf + 1;
    const after = e.after.take();
    const text = latin1(after).split(/[\r\n]+/).find((t) => t !== '');
    // Wait for a whole line with text in it (the CR LF before it may come first), within the line bound.
    if ((text === undefined || lf < 0) && e.after.length <= this.maxLine) return next;
    if (text !== undefined && (this.hooks.confirmEcho?.(text) ?? true)) {
      this.mode = 'line';
      this.echo = undefined;
      this.hooks.frame({ kind: 'echo', length: e.payload.length });
      this.push(after);
      return next;
    }
    return this.notAnEcho(e, after, next);
  }

  /** What matched the payload was the module's own output after all: read it (and what followed) as lines. */
  private notAnEcho(e: EchoState, after: Uint8Array, next: number): number {
    this.mode = 'line';
    this.echo = undefined;
    if (e.matched > 0) this.push(e.payload.subarray(0, e.matched));
    if (after.length > 0) this.push(after);
    return next;
  }

  /** Folds the file bytes `buf[from..to)` in; false when the download went past its bound. */
  private commit(d: DownloadState, buf: Uint8Array, from: number, to: number): boolean {
    if (to <= from) return true;
    if (d.sum.length + (to - from) > this.maxDownload) {
      this.mode = 'line';
      this.download = undefined;
      this.hooks.frame({ kind: 'overflow', what: 'download', limit: this.maxDownload });
      return false;
    }
    d.file.append(buf, from, to);
    d.sum.update(buf, from, to);
    d.beforeLast = to - from >= 2 ? buf[to - 2]! : d.last;
    d.last = buf[to - 1]!;
    return true;
  }

  private pushDownload(chunk: Uint8Array, start: number): number {
    const d = this.download!;
    const held = d.tail.length;
    // Positions below are in `buf`: the chunk itself when nothing was held back, else the held bytes and the rest.
    const buf = held === 0 ? chunk : Buffer.concat([d.tail, chunk.subarray(start)]);
    const offset = held === 0 ? 0 : start - held; // buf position + offset = chunk position
    d.tail = EMPTY;
    const at = (bufIndex: number) => Math.max(start, bufIndex + offset);
    let pos = held === 0 ? start : 0;
    for (;;) {
      const idx = indexOfBytes(buf, d.marker, pos);
      if (idx < 0) {
        const keep = partialMarkerAt(buf, d.marker, pos);
        if (!this.commit(d, buf, pos, buf.length - keep)) return at(buf.length - keep);
        d.tail = Uint8Array.prototype.slice.call(buf, buf.length - keep);
        return chunk.length;
      }
      if (!this.commit(d, buf, pos, idx)) return at(idx);
      const lf = buf.indexOf(LF, idx + d.marker.length);
      const tooLong = (lf < 0 ? buf.length : lf) - idx - d.marker.length > TRAILER_TAIL_MAX;
      if (lf < 0 && !tooLong) {
        d.tail = Uint8Array.prototype.slice.call(buf, idx);
        return chunk.length;
      }
      if (!tooLong) {
        const bytes = this.matchTrailer(d, latin1(buf.subarray(idx + d.marker.length, lf)).replace(/\r+$/, ''));
        if (bytes) {
          this.mode = 'line';
          this.download = undefined;
          this.hooks.frame({ kind: 'download', bytes, trailer: latin1(buf.subarray(idx, lf)).replace(/\r+$/, '') });
          return at(lf + 1);
        }
      }
      // File content that looks like a trailer: its first byte is data, and the search goes on after it.
      if (!this.commit(d, buf, idx, idx + 1)) return at(idx + 1);
      pos = idx + 1;
    }
  }

  /**
   * The file, if `fields` (`<size>,<checksum>`) describe the bytes folded in so far: either all of them (a module
   * that starts the trailer right after the data) or all but a CR LF before the trailer (the documented form, T03).
   */
  private matchTrailer(d: DownloadState, fields: string): Uint8Array | undefined {
    const m = /^(\d{1,10}),([0-9A-Fa-f]{1,4})$/.exec(fields);
    if (!m) return undefined;
    const size = Number(m[1]);
    const ck = parseChecksum(m[2]!);
    const total = d.sum.length;
    if (d.beforeLast === CR && d.last === LF && size === total - 2 && ck === d.sum.valueWithout(Uint8Array.of(CR, LF))) {
      return d.file.take(total - 2);
    }
    if (size === total && ck === d.sum.value) return d.file.take();
    return undefined;
  }
}

/** A marker text as it arrives: a result code on a line of its own. */
const markerBytes = (text: string): Buffer => Buffer.from(`\r\n${text}\r\n`, 'latin1');

/** Length of the longest end of `buf` (from `from` on) that is a proper start of `marker`. */
function partialMarkerAt(buf: Uint8Array, marker: Uint8Array, from: number): number {
  for (let k = Math.min(marker.length - 1, buf.length - from); k > 0; k--) {
    let ok = true;
    for (let j = 0; j < k && ok; j++) ok = buf[buf.length - k + j] === marker[j];
    if (ok) return k;
  }
  return 0;
}
