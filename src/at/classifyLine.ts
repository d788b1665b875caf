/**
 * Decides what a line is (lessons.md §10.4): a module reset, a final result code, the reply of the command in
 * flight, or a URC. The same prefix can be either of the last two (`+CREG:`, `+QSSLOPEN:`), so expectation decides.
 */
import { BOOT_URCS, URC_PREFIXES } from './dialect.js';

export { URC_PREFIXES } from './dialect.js';

/**
 * Lines a module prints on its own when it restarts or powers down; they have no prefix to route by. `APP RDY` is
 * not one: it ends a boot whose `RDY` a host attaching late did not see (T08; a USB port enumerates after `RDY`).
 */
export const RESET_LINES: ReadonlySet<string> = new Set(['RDY', 'POWERED DOWN', 'NORMAL POWER DOWN']);

export type FinalKind = 'ok' | 'error' | 'cme' | 'send-fail' | 'no-carrier';

/** The final result codes (§1.1, §4.1): `OK`, `SEND OK`, `ERROR`, `+CME ERROR: <n>`, `SEND FAIL`, `NO CARRIER`. */
export function finalKind(line: string): FinalKind | undefined {
  if (line === 'OK' || line === 'SEND OK') return 'ok';
  if (line === 'ERROR') return 'error';
  if (line.startsWith('+CME ERROR:')) return 'cme';
  if (line === 'SEND FAIL') return 'send-fail';
  if (line === 'NO CARRIER') return 'no-carrier';
  return undefined;
}

export type LineClass = 'reset' | 'echo' | 'final' | 'reply' | 'urc' | 'unknown';

/** What the in-flight command contributes to classification; `undefined` when nothing is in flight. */
export interface InFlight {
  /** The command line as written (latin1 text), to recognise its echo. */
  readonly command: string;
  readonly expect?: readonly string[];
}

export function classifyLine(line: string, inFlight: InFlight | undefined, urcPrefixes: readonly string[] = URC_PREFIXES): LineClass {
  if (RESET_LINES.has(line)) return 'reset';
  if (BOOT_URCS.has(line)) return 'urc';
  if (inFlight) {
    if (line === inFlight.command) return 'echo';
    if (finalKind(line) !== undefined) return 'final';
    if (inFlight.expect?.some((p) => line.startsWith(p))) return 'reply';
  }
  if (urcPrefixes.some((p) => line.startsWith(p))) return 'urc';
  if (inFlight && !inFlight.expect?.length) return 'reply';
  return 'unknown';
}
