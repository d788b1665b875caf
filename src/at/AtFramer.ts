/**
 * Bytes from the module → frames, with explicit modes (lessons.md §10.2):
 *
 *   line   CR LF ended text; blank lines between frames are dropped; trailing CRs (the echo's `AT\r\r\n`) stripped
 *   prompt a `>` at the start of a line, only while the command in flight waits for one (T09: `\r\n> `, no line end)
 *   data   exactly N raw bytes after a line that announced them (`+QSSLRECV: N`, `+QIRD: N`, a push URC)
 *   raw    bytes up to a trailer whose length field matches their count (the file after `CONNECT` of AT+QFDWL)
 *
 * Which lines announce data is decided by the engine, synchronously, through {@link FramerHooks.modeAfter}: the
 * same text can be payload or a line depending on the command in flight. The line parser never runs over payload.
 */

/** One unit the engine acts on. Line text is latin1, so every byte maps to one character and nothing is lost. */
export type AtFrame =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'prompt' }
  | { readonly kind: 'data'; readonly line: string; readonly bytes: Uint8Array }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array; readonly trailer: string };

/** What follows a line: N counted bytes, or raw bytes up to a trailer (its first group is the byte count). */
export type FramerMode = { readonly data: number } | { readonly rawUntil: RegExp };

export interface FramerHooks {
  /** Called for every complete line before it becomes a frame; a mode makes the bytes after it payload. */
  modeAfter(line: string): FramerMode | undefined;
}

const CR = 0x0d;
const LF = 0x0a;
const GT = 0x3e;
const SPACE = 0x20;
const EMPTY = new Uint8Array(0);

type State =
  | { readonly kind: 'line' }
  | { readonly kind: 'data'; readonly line: string; readonly need: number; readonly parts: Uint8Array[]; have: number }
  | { readonly kind: 'raw'; readonly trailer: RegExp; readonly parts: Uint8Array[] };

const concat = (parts: readonly Uint8Array[], size?: number): Uint8Array =>
  parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);

export class AtFramer {
  private buf: Uint8Array = EMPTY;
  private state: State = { kind: 'line' };
  private promptArmed = false;
  private afterPrompt = false;

  constructor(private readonly hooks: FramerHooks) {}

  /** Arms (or disarms) prompt detection: a `>` at the start of a line is then the send prompt, once. */
  expectPrompt(on: boolean): void {
    this.promptArmed = on;
  }

  /** Whether a line, payload or trailer is incomplete. */
  get partial(): boolean {
    return this.state.kind !== 'line' || this.buf.some((b) => b !== CR && b !== LF);
  }

  /** Drops everything buffered (after a reset or reopen) and returns to line mode. */
  reset(): void {
    this.buf = EMPTY;
    this.state = { kind: 'line' };
    this.promptArmed = false;
    this.afterPrompt = false;
  }

  /** Takes the next chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): AtFrame[] {
    const frames: AtFrame[] = [];
    let input = chunk;
    if (this.state.kind === 'line' && this.buf.length > 0) input = Buffer.concat([this.buf, chunk]);
    this.buf = EMPTY;
    let i = 0;
    while (i < input.length) {
      const s = this.state;
      if (s.kind === 'data') {
        const take = Math.min(s.need - s.have, input.length - i);
        s.parts.push(input.subarray(i, i + take));
        s.have += take;
        i += take;
        if (s.have === s.need) {
          frames.push({ kind: 'data', line: s.line, bytes: Uint8Array.prototype.slice.call(concat(s.parts, s.need)) });
          this.state = { kind: 'line' };
        }
        continue;
      }
      if (s.kind === 'raw') {
        s.parts.push(input.subarray(i));
        i = input.length;
        const rest = this.matchTrailer(s, frames);
        if (rest) {
          input = rest;
          i = 0;
        }
        continue;
      }
      // Line mode.
      const b = input[i]!;
      if (b === CR || b === LF) {
        i++;
        continue;
      }
      if (this.afterPrompt) {
        this.afterPrompt = false;
        if (b === SPACE) {
          i++;
          continue;
        }
      }
      if (b === GT && this.promptArmed) {
        this.promptArmed = false;
        this.afterPrompt = true;
        frames.push({ kind: 'prompt' });
        i++;
        continue;
      }
      const lf = input.indexOf(LF, i);
      if (lf < 0) {
        this.buf = Uint8Array.prototype.slice.call(input, i);
        break;
      }
      let end = lf;
      while (end > i && input[end - 1] === CR) end--;
      const text = Buffer.from(input.buffer, input.byteOffset + i, end - i).toString('latin1');
      i = lf + 1;
      const mode = this.hooks.modeAfter(text);
      if (mode === undefined) frames.push({ kind: 'line', text });
      else if ('data' in mode) {
        if (mode.data === 0) frames.push({ kind: 'data', line: text, bytes: new Uint8Array(0) });
        else this.state = { kind: 'data', line: text, need: mode.data, parts: [], have: 0 };
      } else {
        frames.push({ kind: 'line', text });
        this.state = { kind: 'raw', trailer: new RegExp(mode.rawUntil.source, mode.rawUntil.flags.replace('g', '')), parts: [] };
      }
    }
    return frames;
  }

  /**
   * Looks for the trailer in the raw bytes so far. A match counts only if its length field equals the bytes before
   * it, so a file that happens to contain the trailer text is not cut short. Returns the bytes after the trailer.
   */
  private matchTrailer(s: Extract<State, { kind: 'raw' }>, frames: AtFrame[]): Uint8Array | undefined {
    const all = concat(s.parts);
    const text = Buffer.from(all.buffer, all.byteOffset, all.length).toString('latin1');
    const re = new RegExp(s.trailer.source, `${s.trailer.flags}g`);
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (Number(m[1]) === m.index) {
        frames.push({ kind: 'raw', bytes: Uint8Array.prototype.slice.call(all, 0, m.index), trailer: m[0].trim() });
        this.state = { kind: 'line' };
        return all.subarray(m.index + m[0].length);
      }
      re.lastIndex = m.index + 1;
    }
    s.parts.length = 0;
    s.parts.push(all);
    return undefined;
  }
}
