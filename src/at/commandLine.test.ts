/**
 * `prepareCommand` keeps what it made of lines without secrets (the data commands repeat one line thousands of
 * times): a kept line must come back exactly as a fresh one, and a caller's secrets must still be hidden in a line
 * that was kept without them.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { prepareCommand } from './commandLine.js';

const printable = fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))), maxLength: 40 });

describe('prepareCommand keeps repeated lines', () => {
  test('a line prepared again is the same as the first time, with its own command object', () => {
    fc.assert(fc.property(printable, (text) => {
      const line = `AT${text}`;
      const first = prepareCommand({ command: line });
      const cmd = { command: line, payload: Buffer.from('x') };
      const again = prepareCommand(cmd);
      expect(again.cmd).toBe(cmd);
      expect({ line: again.line, shown: again.shown, secrets: again.secrets, bytes: again.bytes.toString('latin1') })
        .toEqual({ line: first.line, shown: first.shown, secrets: first.secrets, bytes: first.bytes.toString('latin1') });
    }), { numRuns: 300 });
  });

  test("a caller's secret is hidden even when the same line was kept without one", () => {
    fc.assert(fc.property(printable, fc.string({ minLength: 3, maxLength: 12 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), (before, secret) => {
      const line = `AT+QTEST="${before.replaceAll('"', '')}${secret}"`;
      prepareCommand({ command: line });
      const hidden = prepareCommand({ command: line, secrets: [secret] });
      expect(hidden.shown).not.toContain(secret);
      expect(hidden.secrets).toContain(secret);
      expect(prepareCommand({ command: line }).shown).toBe(prepareCommand({ command: line }).shown);
    }), { numRuns: 300 });
  });

  test('a line with a secret argument of its own is never kept with the secret shown', () => {
    const line = 'AT+QICSGP=1,1,"internet","user","hunter2-Sekrit",1';
    for (let i = 0; i < 3; i++) expect(prepareCommand({ command: line }).shown).not.toContain('hunter2-Sekrit');
  });
});
