/**
 * Turns an {@link AtCommand} into the bytes that go on the line, after checking them. The check is on the bytes
 * that will be written, not on the characters of a string: a JavaScript string written as latin1 keeps only the low
 * byte of each UTF-16 unit, so `U+010D` would become CR and `U+011A` Ctrl-Z, and end the command or start another.
 */
import { QuectelError } from '../errors.js';
import { redactCommandLine, REDACTED, secretValues } from '../protocol/secrets.js';
import type { AtCommand } from './AtCommand.js';

/** A command ready to write: its text as the module sees it, its bytes, and how traces and errors show it. */
export interface PreparedCommand {
  readonly cmd: AtCommand;
  /** The command line as latin1 text, one character per byte (what its echo looks like). */
  readonly line: string;
  /** What is written: the line and its CR. */
  readonly bytes: Buffer;
  /** The line with every secret replaced by `***`, for traces, events and errors. */
  readonly shown: string;
  /** The secret values it carries (its own secret arguments and the caller's), to hide wherever else they show up. */
  readonly secrets: readonly string[];
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Checks and encodes a command.
 * @throws QuectelError `INVALID_ARGUMENT` for a string holding anything but printable ASCII, or bytes holding CR or LF.
 */
export function prepareCommand(cmd: AtCommand): PreparedCommand {
  // The data commands repeat the same line thousands of times (`AT+QSSLSEND=0,1460`): what depends on the line
  // alone is worked out once.
  const noSecrets = cmd.secrets === undefined || cmd.secrets.length === 0;
  if (typeof cmd.command === 'string' && noSecrets) {
    const known = LINES.get(cmd.command);
    if (known) return { cmd, ...known };
  }
  let line: string;
  if (typeof cmd.command === 'string') {
    if (!PRINTABLE.test(cmd.command)) {
      const at = [...cmd.command].findIndex((c) => !PRINTABLE.test(c));
      const unit = cmd.command.codePointAt(at) ?? 0;
      throw new QuectelError('INVALID_ARGUMENT',
        `a command line must be printable ASCII (0x20-0x7E); U+${unit.toString(16).toUpperCase().padStart(4, '0')} at position ${at} was refused`,
        { position: at, codePoint: unit });
    }
    line = cmd.command;
  } else {
    const bad = cmd.command.findIndex((b) => b === 0x0d || b === 0x0a);
    if (bad >= 0) throw new QuectelError('INVALID_ARGUMENT', `a command line must not hold CR or LF (byte ${bad})`, { position: bad });
    line = Buffer.from(cmd.command).toString('latin1');
  }
  const secrets = [...secretValues(line), ...(cmd.secrets ?? []).filter((s) => s !== '')];
  const prepared = { line, bytes: Buffer.from(`${line}\r`, 'latin1'), shown: hide(redactCommandLine(line), secrets), secrets };
  if (typeof cmd.command === 'string' && noSecrets && secrets.length === 0) {
    if (LINES.size >= MAX_LINES) LINES.clear();
    LINES.set(cmd.command, prepared);
  }
  return { cmd, ...prepared };
}

/** Lines without secrets seen lately, and what {@link prepareCommand} made of them (the bytes are never written to). */
const LINES = new Map<string, Omit<PreparedCommand, 'cmd'>>();
const MAX_LINES = 256;

/** `text` with every occurrence of each secret replaced by `***`. */
export function hide(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0 && out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}
