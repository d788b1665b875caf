#!/usr/bin/env node
// Runs every vitest suite and ends with the plain closing line CI reads: "N passed, N failed, N skipped".
// Vitest's own summary is kept on screen; the counts come from its JSON report.
// Some suites need socat (pty pairs), openssl (s_server peers), mosquitto (an MQTT broker for mqtt.js), tmux (a
// terminal for the CLI's interactive tests), ser2net (a serial server for the socket:// and rfc2217:// suite) and
// python3 (the README's Python driver): where they are missing and this runs as root on Debian, they are installed
// as .ci/run does; otherwise the run stops at once with one line naming what to install.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';

const TOOLS = ['socat', 'openssl', 'mosquitto', 'tmux', 'ser2net', 'python3'];
// mosquitto and ser2net live in /usr/sbin, which a user's PATH may leave out.
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = TOOLS.filter((c) => !has(c));
if (missing.length > 0 && process.getuid?.() === 0 && has('apt-get')) {
  console.log(`installing ${missing.join(' ')} (apt-get) for the pty, TLS, MQTT, terminal, serial-server and Python example suites`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
}
const still = TOOLS.filter((c) => !has(c));
if (still.length > 0) {
  console.log(`the tests need ${still.join(', ')}: install ${still.length > 1 ? 'them' : 'it'} (Debian: apt-get install ${still.join(' ')})`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const out = '.test-results/vitest.json';
mkdirSync('.test-results', { recursive: true });
if (existsSync(out)) rmSync(out);

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed = report.numPassedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed on its own (it did not load, or a beforeAll threw and its tests were skipped) has no failed
  // test to show for it; count it as one failure so it cannot hide.
  failed = (report.numFailedTests ?? 0) + (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
