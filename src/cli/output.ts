/**
 * How commands print. Results go to stdout: aligned tables with a header for people, or exactly one JSON document
 * (`--json`; JSON lines for the `at` stream) for scripts. Warnings, progress and the AT trace go to stderr, so a
 * script reading stdout never sees them.
 */

/** A column of {@link table}: its header and whether numbers line up on the right. */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => {
    if (i === cells.length - 1 && columns[i]?.align !== 'right') return cell;
    return columns[i]?.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
  }).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/** Writes one line to stdout. */
export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a JSON document (one line) to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A warning on stderr, prefixed with the program's name. */
export function warn(text: string): void {
  process.stderr.write(`ussl-bridge: warning: ${text}\n`);
}

/** `1234567` → `1.2 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `12.3` → `12 ms`, `1534` → `1.53 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Text with its control bytes shown as escapes, for data a terminal should not interpret. */
export function printable(data: Uint8Array | string): string {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  return text.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => {
    if (c === '\r') return '\\r';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
