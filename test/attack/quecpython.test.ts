/** Attacks on the module-level usocket/ussl of ussl-bridge/quecpython. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { within } from './harness.js';

test('two first uses at once (USSL_PORT set) open one module, and detach() closes it', async () => {
  const script = fileURLToPath(new URL('./fixtures/concurrentFirstUse.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = await within(new Promise<number | null>((r) => child.on('exit', (code) => r(code))), 15_000);
  if (exited === 'HUNG') child.kill('SIGKILL');
  expect(exited).toBe(0);
  expect(out).not.toMatch(/after detach:.*connected\.ready/);
  expect(out).toContain('same modem');
}, 30_000);
