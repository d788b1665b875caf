/**
 * "Modem.close(): nothing keeps running afterwards" (Modem.ts). A connection that was waiting out SEND FAILs when the
 * modem closed must not keep the process alive: a program exits when its work is done.
 */
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';

const FIXTURE = new URL('./fixtures/exitAfterClose.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;

/** Runs the fixture; milliseconds from its "closed" to its exit (or 'HUNG' after `limitMs`). */
function exitDelay(waitMs: number, limitMs: number): Promise<number | 'HUNG'> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [FIXTURE, String(waitMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let closedAt: number | undefined;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('closed')) closedAt ??= Date.now();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('HUNG');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (closedAt === undefined) reject(new Error(`the fixture ended (${code}) before closing: ${err}`));
      else resolve(Date.now() - closedAt);
    });
  });
}

test('a modem closed while a send waits out SEND FAIL lets the process exit at once, whatever the retry policy\'s longest wait', async () => {
  // A retry policy that waits 10 s after a refusal (a gap grown on a slow network looks the same): the closed
  // connection's retry timer holds the process until it fires.
  const delay = await exitDelay(10_000, 25_000);
  expect(delay).not.toBe('HUNG');
  expect(delay).toBeLessThan(2000);
}, 30_000);
