/**
 * The layers depend one way: transport → at → modem → (ussl, cli); the emulator sits beside them and shares only
 * the protocol facts, the error type and the serial binding workarounds (src/bindings). This test reads every import in src/ and fails on one that points the
 * wrong way, so the rule holds without a lint setup.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { expect, test } from 'vitest';

const SRC = resolve(new URL('../src', import.meta.url).pathname);

/** What each top-level folder (or root file) may import from inside src/. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  protocol: ['protocol'],
  // Workarounds for the serialport package's native binding, used by whatever opens a serial port.
  bindings: ['bindings'],
  transport: ['transport', 'bindings', 'errors'],
  at: ['at', 'transport', 'protocol', 'errors'],
  modem: ['modem', 'at', 'transport', 'protocol', 'errors'],
  ussl: ['ussl', 'modem', 'at', 'transport', 'protocol', 'errors'],
  emulator: ['emulator', 'protocol', 'bindings', 'errors'],
  // The command line is a program on top of everything; it registers the emulator: scheme as the package root does.
  cli: ['cli', 'ussl', 'modem', 'at', 'transport', 'bindings', 'protocol', 'emulator', 'errors', 'emulatorScheme'],
  errors: [],
};
// Composition roots join layers on purpose.
const ROOTS = new Set(['index', 'atEntry', 'emulatorScheme', 'quecpython']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file).replace(/\.(ts|js)$/, '');
  return rel.includes('/') ? rel.split('/')[0]! : rel;
};

test('every import in src/ points down the layers', () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    if (ROOTS.has(from)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const to = layerOf(resolve(dirname(file), m[1]!));
      if (!(ALLOWED[from] ?? []).includes(to)) wrong.push(`${relative(SRC, file)} imports ${m[1]} (${from} → ${to})`);
    }
  }
  expect(wrong).toEqual([]);
});

test('the check sees the layers it guards', () => {
  const layers = new Set(files(SRC).map(layerOf));
  for (const l of ['protocol', 'transport', 'at', 'modem', 'ussl', 'emulator', 'cli']) expect(layers).toContain(l);
});
