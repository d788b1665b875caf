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
  table[(args[0] ?? '').replace(/"/g, '').toLowerCase()] ?? [];

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

/**
 * The command line with every secret argument replaced by {@link REDACTED} (quotes kept), or the line itself when
 * it carries none. `AT+QICSGP=1,1,"internet","bob","hunter2",1` → `AT+QICSGP=1,1,"internet","bob","***",1`.
 */
export function redactCommandLine(line: string): string {
  const m = /^(AT)(\+[A-Za-z0-9]+)=(.*)$/i.exec(line);
  if (!m) return line;
  const rule = SECRET_ARGUMENTS[m[2]!.toUpperCase()];
  if (!rule) return line;
  const args = splitArguments(m[3]!);
  const positions = rule(args);
  if (positions.length === 0) return line;
  for (const p of positions) {
    const a = args[p];
    if (a === undefined || a.trim() === '' || a.trim() === '""') continue;
    args[p] = a.trim().startsWith('"') ? `"${REDACTED}"` : REDACTED;
  }
  return `${m[1]}${m[2]}=${args.join(',')}`;
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
  const m = /^AT(\+[A-Za-z0-9]+)=(.*)$/i.exec(line);
  const rule = m && SECRET_ARGUMENTS[m[1]!.toUpperCase()];
  if (!m || !rule) return [];
  const args = splitArguments(m[2]!);
  return rule(args).map((p) => (args[p] ?? '').trim().replace(/^"|"$/g, '')).filter((v) => v !== '');
}
