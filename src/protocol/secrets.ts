/**
 * Which arguments of which AT commands carry secrets, so that both sides of the line (the library's trace and
 * errors, the emulator's `--trace`) can show a command without them. The positions are 0-based argument indexes of
 * the set form, per the manuals: `AT+QICSGP=<ctx>,<type>,"<apn>","<user>","<password>",<auth>` (BG96 TCP(IP) §2.1.1),
 * `AT+CPIN=<pin>[,<new pin>]`, `AT+CGAUTH=<cid>,<auth>,"<user>","<password>"`,
 * `AT+QMTCONN=<client>,"<clientID>","<user>","<password>"`, `AT+QFTPCFG="account","<user>","<password>"`,
 * and the SSL context's key password and PSK (`"clientkey",<ctx>,"<path>","<password>"`, `"psk",<ctx>,"<id>","<key>"`).
 */

/** The text that stands for a secret wherever one is shown. */
export const REDACTED = '***';

type SecretRule = (args: readonly string[]) => readonly number[];

const at = (...positions: number[]): SecretRule => () => positions;
/** The first argument names a sub-setting (`"psk"`); the rule depends on it. */
const bySetting = (table: Readonly<Record<string, readonly number[]>>): SecretRule => (args) =>
  table[(args[0] ?? '').replace(/"/g, '').trim().toLowerCase()] ?? [];

const SECRET_ARGUMENTS: Readonly<Record<string, SecretRule>> = {
  '+QICSGP': at(4),
  '+CPIN': at(0, 1),
  '+CPWD': at(1, 2),
  '+CLCK': at(2),
  '+CGAUTH': at(3),
  '+QMTCONN': at(3),
  '+QFTPCFG': bySetting({ account: [2] }),
  '+QSSLCFG': bySetting({ clientkey: [3], psk: [2, 3] }),
};

/** Splits the argument text of a set command at the commas outside quotes; quotes are kept. */
function splitArguments(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** One extended command inside a command line: its name and where its argument text starts and ends. */
interface CommandSpan {
  readonly name: string;
  readonly argsStart: number;
  readonly argsEnd: number;
}

/**
 * The set commands of a line, however they are written: `AT+X=…`, concatenated after others (`AT+CMEE=1;+X=…`,
 * `ATE0+X=…`, V.250 §5.4), with spaces before the `=`, in any letter case. A `+` inside quotes is text.
 */
function setCommands(line: string): CommandSpan[] {
  const out: CommandSpan[] = [];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    if (quoted || c !== '+') continue;
    let j = i + 1;
    while (j < line.length && /[A-Za-z0-9]/.test(line[j]!)) j++;
    const name = `+${line.slice(i + 1, j)}`.toUpperCase();
    while (j < line.length && line[j] === ' ') j++;
    if (line[j] !== '=') continue;
    let k = j + 1;
    for (let q = false; k < line.length; k++) {
      if (line[k] === '"') q = !q;
      else if (line[k] === ';' && !q) break;
    }
    out.push({ name, argsStart: j + 1, argsEnd: k });
    i = k;
  }
  return out;
}

/** The secret arguments of each set command in `line`: where its arguments are, and which of them are secret. */
function secretArguments(line: string): Array<{ readonly span: CommandSpan; readonly args: string[]; readonly positions: readonly number[] }> {
  if (!/^\s*AT/i.test(line)) return [];
  const out = [];
  for (const span of setCommands(line)) {
    const rule = SECRET_ARGUMENTS[span.name];
    if (!rule) continue;
    const args = splitArguments(line.slice(span.argsStart, span.argsEnd));
    const positions = rule(args).filter((p) => {
      const a = args[p]?.trim();
      return a !== undefined && a !== '' && a !== '""';
    });
    if (positions.length > 0) out.push({ span, args, positions });
  }
  return out;
}

/**
 * The command line with every secret argument replaced by {@link REDACTED} (quotes kept), or the line itself when
 * it carries none. `AT+QICSGP=1,1,"internet","bob","hunter2",1` → `AT+QICSGP=1,1,"internet","bob","***",1`; the
 * same inside a concatenated line (`AT+CMEE=1;+QICSGP=…`).
 */
export function redactCommandLine(line: string): string {
  const found = secretArguments(line);
  if (found.length === 0) return line;
  let out = '';
  let at = 0;
  for (const { span, args, positions } of found) {
    for (const p of positions) args[p] = args[p]!.trim().startsWith('"') ? `"${REDACTED}"` : REDACTED;
    out += line.slice(at, span.argsStart) + args.join(',');
    at = span.argsEnd;
  }
  return out + line.slice(at);
}

/**
 * Reply lines that read a secret back: `+QICSGP: <type>,"<apn>","<user>","<password>",<auth>` (the query of a PDP
 * context), and the SSL context's key password and PSK in `+QSSLCFG:`.
 */
const SECRET_FIELDS: Readonly<Record<string, SecretRule>> = {
  '+QICSGP': at(3),
  '+QSSLCFG': bySetting({ clientkey: [3], psk: [2, 3] }),
};

/** A reply line with every secret field replaced by {@link REDACTED}, or the line itself when it shows none. */
export function redactReplyLine(line: string): string {
  const m = /^(\+[A-Za-z0-9]+):( ?)(.*)$/.exec(line);
  const rule = m && SECRET_FIELDS[m[1]!.toUpperCase()];
  if (!m || !rule) return line;
  const fields = splitArguments(m[3]!);
  const positions = rule(fields);
  if (positions.length === 0) return line;
  for (const p of positions) {
    const f = fields[p]?.trim();
    // Only a quoted value is one: the test form prints placeholders there (`<key_pwd>`).
    if (f === undefined || !f.startsWith('"') || f === '""') continue;
    fields[p] = `"${REDACTED}"`;
  }
  return `${m[1]}:${m[2]}${fields.join(',')}`;
}

/** The secret argument values of a command line, unquoted, for redacting them wherever else they show up (echo). */
export function secretValues(line: string): string[] {
  return secretArguments(line).flatMap(({ args, positions }) => positions.map((p) => args[p]!.trim().replace(/^"|"$/g, '')));
}
