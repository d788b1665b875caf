/**
 * docs/architecture.md's generated parts (the connection machine's diagram, the table of where each AT command is
 * built) match the code; `npm run docs` rewrites them.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { DOC, render } from '../scripts/docs.js';

test('docs/architecture.md is current with the machine and the sources (npm run docs)', () => {
  const current = readFileSync(DOC, 'utf8');
  expect(render(current)).toBe(current);
  expect(current).toContain('stateDiagram-v2');
  expect(current).toContain('`AT+QSSLOPEN` | `src/modem/services/ConnectionService.ts`');
});
