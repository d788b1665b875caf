/**
 * Writes the generated parts of docs/architecture.md: the connection machine's diagram (from the xstate
 * definition) and the table of where each AT command the library sends is built (from the sources).
 * `npm run docs`; test/docs.test.ts fails when the file is out of date.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stateDiagram } from '../src/modem/connection/stateDiagram.js';

const ROOT = new URL('..', import.meta.url).pathname;
export const DOC = join(ROOT, 'docs/architecture.md');

/** Library files that build commands: the engine's fence, the connection steps, the services, the ussl layer. */
const SOURCES = ['src/at/AtEngine.ts', 'src/modem', 'src/ussl'];

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (full.endsWith('.ts')) return [full];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(relative(ROOT, join(full, e.name))) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(full, e.name)] : []);
}

/** `AT+QSSLOPEN` → the files that write it, from string and template literals that start with it. */
export function commandTable(): string {
  const where = new Map<string, Set<string>>();
  for (const file of SOURCES.flatMap(files)) {
    // Code only: comments name commands too.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const m of text.matchAll(/['`](AT\+[A-Z0-9]+)(?=[=?'`"$])/g)) {
      if (!where.has(m[1]!)) where.set(m[1]!, new Set());
      where.get(m[1]!)!.add(relative(ROOT, file));
    }
    // The families' command names are data in Connection.ts (`send: 'AT+QSSLSEND'`).
    for (const m of text.matchAll(/: '(AT\+[A-Z0-9]+)'/g)) {
      if (!where.has(m[1]!)) where.set(m[1]!, new Set());
      where.get(m[1]!)!.add(relative(ROOT, file));
    }
  }
  const rows = [...where.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cmd, fs]) => `| \`${cmd}\` | ${[...fs].sort().map((f) => `\`${f}\``).join(', ')} |`);
  return ['| command | built in |', '|---|---|', ...rows].join('\n');
}

/** The document with its generated sections filled in. */
export function render(current: string): string {
  const put = (text: string, name: string, body: string) => {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- end:${name} -->)`);
    if (!re.test(text)) throw new Error(`docs/architecture.md has no generated:${name} section`);
    return text.replace(re, (_m, open: string, close: string) => `${open}\n${body}\n${close}`);
  };
  return put(put(current, 'connection-machine', `\`\`\`mermaid\n${stateDiagram()}\n\`\`\``), 'commands', commandTable());
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(DOC, render(readFileSync(DOC, 'utf8')));
  console.log('docs/architecture.md updated');
}
