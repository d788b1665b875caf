/**
 * Keeps secrets out of what the engine shows: trace events, `unknown` events and error contexts.
 *
 * - A command's own echo is shown as the command is shown (its secret arguments as `***`), whatever their length.
 * - Reply lines that read a secret back (`+QICSGP: …,"<password>",…`) show it as `***` (protocol/secrets.ts).
 * - The secret values of recent commands are hidden wherever else they appear; values shorter than three
 *   characters only through the two rules above, so that a one-letter password does not blot out every line.
 * - A module with echo on repeats a payload too (ATE1 with QISDE=1 after `>`, a BG95 during an upload, §6), at
 *   times after the command already ended (a BC66 prints uploaded certificate text after `OK`): a line that is part
 *   of a recent payload is shown as its size only, unless payloads may be traced and this one is not sensitive.
 */
import { redactReplyLine, REDACTED } from '../protocol/secrets.js';
import { hide, type PreparedCommand } from './commandLine.js';

/** How many recent commands' secrets and payloads are remembered. */
const RECENT = 4;
/** Shorter lines are not checked against payloads: `OK` is in many a payload and says nothing. */
const MIN_ECHO_LINE = 4;
const MIN_FREE_SECRET = 3;

export class Redactor {
  private echoes: Array<{ readonly line: string; readonly shown: string }> = [];
  private secrets: string[] = [];
  private payloads: Uint8Array[] = [];

  /** @param showPayloads payload bytes may appear in traces (`traceData`), except sensitive ones. */
  constructor(private readonly showPayloads: boolean) {}

  /** Remembers what a command about to be written carries. */
  remember(p: PreparedCommand): void {
    if (p.line !== p.shown) this.echoes = [...this.echoes, { line: p.line, shown: p.shown }].slice(-RECENT);
    const free = p.secrets.filter((s) => s.length >= MIN_FREE_SECRET);
    if (free.length > 0) this.secrets = [...this.secrets, ...free].slice(-RECENT * 4);
    const payload = p.cmd.payload;
    if (payload && payload.length >= MIN_ECHO_LINE && (p.cmd.sensitive === true || !this.showPayloads)) {
      this.payloads = [...this.payloads, payload].slice(-RECENT);
    }
  }

  /** A line from the module as it may be shown. */
  line(text: string): string {
    for (const e of this.echoes) {
      if (text.endsWith(e.line)) return this.line(text.slice(0, -e.line.length)) + e.shown;
    }
    const out = hide(redactReplyLine(text), this.secrets);
    if (out.length >= MIN_ECHO_LINE && this.payloads.length > 0) {
      const bytes = Buffer.from(out, 'latin1');
      if (this.payloads.some((p) => Buffer.from(p.buffer, p.byteOffset, p.length).includes(bytes))) {
        return `[${bytes.length} bytes of payload echo, ${REDACTED}]`;
      }
    }
    return out;
  }
}
