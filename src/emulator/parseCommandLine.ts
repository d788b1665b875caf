/**
 * Splits one AT command line, as the module received it (without the terminating CR), into a name, a form and
 * its arguments. The emulator's own small parser: it shares nothing with the host-side AT engine on purpose, so a
 * bug on one side cannot hide the same bug on the other.
 */

/** `AT+X` exec, `AT+X?` read, `AT+X=?` test, `AT+X=...` set. Basic commands (`ATE0`, `ATI`) are `exec`. */
export type CommandForm = 'exec' | 'read' | 'test' | 'set';

export interface CommandArg {
  /** The argument's text without surrounding quotes. */
  readonly text: string;
  readonly quoted: boolean;
}

export interface ParsedCommand {
  /** Upper-cased: `+QSSLCFG`, `E`, `I`, `&F`, or `` for a bare `AT`. */
  readonly name: string;
  readonly form: CommandForm;
  readonly args: readonly CommandArg[];
  /** For basic commands such as `ATE0`: the digits after the letter. */
  readonly basicValue?: string;
  /** The line as received, for traces. */
  readonly raw: string;
}

/** Parses a command line; `undefined` when it is not an AT command at all or its quotes do not close. */
export function parseCommandLine(line: string): ParsedCommand | undefined {
  const raw = line;
  const text = line.trim();
  if (!/^at/i.test(text)) return undefined;
  const body = text.slice(2);
  if (body.length === 0) return { name: '', form: 'exec', args: [], raw };

  if (body[0] === '+') {
    const m = /^\+[A-Za-z0-9]+/.exec(body);
    if (!m) return undefined;
    const name = m[0].toUpperCase();
    const rest = body.slice(m[0].length);
    if (rest === '') return { name, form: 'exec', args: [], raw };
    if (rest === '?') return { name, form: 'read', args: [], raw };
    if (rest === '=?') return { name, form: 'test', args: [], raw };
    if (rest[0] !== '=') return undefined;
    const args = splitArgs(rest.slice(1));
    return args && { name, form: 'set', args, raw };
  }

  // Basic commands: a letter (or & plus a letter), then optional digits.
  const m = /^(&?[A-Za-z])(\d*)$/.exec(body);
  if (!m) return undefined;
  return { name: m[1]!.toUpperCase(), form: 'exec', args: [], basicValue: m[2]!, raw };
}

function splitArgs(text: string): CommandArg[] | undefined {
  const args: CommandArg[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      args.push({ text: text.slice(i + 1, end), quoted: true });
      i = end + 1;
      while (text[i] === ' ') i++;
    } else {
      let end = text.indexOf(',', i);
      if (end < 0) end = text.length;
      args.push({ text: text.slice(i, end).trim(), quoted: false });
      i = end;
    }
    if (i >= text.length) return args;
    if (text[i] !== ',') return undefined;
    i++;
  }
}

/** Reads an unquoted decimal argument within [min, max]; `undefined` when absent, malformed or out of range. */
export function intArg(args: readonly CommandArg[], index: number, min: number, max: number): number | undefined {
  const a = args[index];
  if (!a || a.quoted || !/^\d+$/.test(a.text)) return undefined;
  const n = Number(a.text);
  return n >= min && n <= max ? n : undefined;
}

/** Reads a quoted string argument; `undefined` when absent or not quoted. */
export function strArg(args: readonly CommandArg[], index: number): string | undefined {
  const a = args[index];
  return a && a.quoted ? a.text : undefined;
}
