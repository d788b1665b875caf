/**
 * Counterexamples fast-check once found for engineProperties.test.ts, replayed on every run so that a fixed defect
 * stays fixed. Add the `seed` and `path` a failing run prints, with what it found; never remove one.
 */
export const REGRESSIONS: ReadonlyArray<{ readonly seed: number; readonly path: string; readonly found: string }> = [
  {
    seed: -2120430867, path: '6376:2:6:6:6:6:6:6:6:6',
    found: 'engine: with echo on but AT+QISDE off, a send payload that began with the module\'s next words (`\\r\\nRDY\\r\\n`) was taken for its own echo, and the restart was lost',
  },
  {
    seed: -597126407, path: '3093:2:8:8:8:8:8:8:8:8:8:8:8:8',
    found: 'engine: an upload of `+` with echo on, on a module that does not echo uploads: the `+` of `+QFUPL:` was taken for the echo',
  },
  { seed: 386759064, path: '37:2:4:3:3:3:3:3:3:3:3:3', found: 'engine: lines before the very first echo (echo state not yet known) were credited to the command' },
  { seed: 779877656, path: '0:0:0:1:1:1:1', found: 'model: a late result also reaches URC subscribers' },
  { seed: -1253954655, path: '210:0:0:0:4:4:4:4', found: 'model: a late line after the last result must be read before URCs are counted' },
  { seed: 222379192, path: '30:4:3:4:4:4:5:5:6:6:5:5:5:5:5:5:5', found: 'model: a restart undoes AT+QISDE=1, so the payload is no longer echoed' },
];
