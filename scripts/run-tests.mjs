#!/usr/bin/env node
// Runs every vitest suite and ends with the plain closing line CI reads: "N passed, N failed".
// Vitest's own summary is kept on screen; the counts come from its JSON report.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';

const out = '.test-results/vitest.json';
mkdirSync('.test-results', { recursive: true });
if (existsSync(out)) rmSync(out);

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed = report.numPassedTests ?? 0;
  // A suite that failed to load has no tests of its own; count it as a failure so it cannot hide.
  failed = (report.numFailedTests ?? 0) + (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  ).length;
} else {
  failed = 1;
}
const skipped = 0;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
