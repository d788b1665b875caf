/**
 * `modem.close()` leaves nothing running: a process that opens and closes a modem (or fails to open one) exits by
 * itself, with no timer, socket or port keeping it alive. Runs the built package (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';

const DIST = new URL('../../dist/', import.meta.url).href;

function runScript(body: string): Promise<{ code: number | null; out: string; ms: number }> {
  const script = `import { Modem } from '${DIST}index.js';\n${body}`;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, out, ms: Date.now() - t0 });
  }));
}

test('open then close on emulator:BG96: the process exits on its own', async () => {
  const r = await runScript(`const modem = await Modem.open('emulator:BG96'); console.log(modem.state); await modem.close();`);
  expect(r.out.trim()).toBe('connected.ready');
  expect(r.code).toBe(0);
}, 20_000);

test('a failed open (no SIM) leaves nothing running either', async () => {
  const r = await runScript(`
    const { VirtualModule } = await import('${DIST}emulator/index.js');
    const m = new VirtualModule({ sim: 'absent' });
    try { await Modem.open(m, { simTimeoutMs: 200 }); } catch (e) { console.log(e.code); }
    m.dispose();`);
  expect(r.out.trim()).toBe('MODEM_SIM_MISSING');
  expect(r.code).toBe(0);
}, 20_000);
