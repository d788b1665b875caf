/**
 * `ussl-bridge emulate --tcp` serves a virtual module until interrupted (the server's own suites are in
 * test/server/); here, the command line's part: the global --model chooses the model, and SIGINT stops it with 0.
 */
import { connect } from 'node:net';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cliProcess.js';
import { eventually, startEmulate } from '../helpers/emulateProcess.js';

test('emulate --model BG95 --tcp 0 serves that model and stops cleanly on SIGINT', async () => {
  const p = await startEmulate(['--model', 'BG95', '--tcp', '0']);
  const sock = connect(Number(/:(\d+)$/.exec(p.url)![1]), '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await eventually(() => got.includes('APP RDY'), 10_000, () => got);
  sock.write('AT+CGMM\r');
  await eventually(() => got.endsWith('OK\r\n'), 10_000, () => got);
  expect(got).toContain('AT+CGMM\r\r\nBG95-M3\r\n\r\nOK\r\n');
  sock.destroy();
  p.child.kill('SIGINT');
  expect((await p.exited).code).toBe(0);
}, 20_000);

test('emulate --latency bg96 serves with a real module\'s delays; an unknown profile is a usage error', async () => {
  const bad = await runCli(['emulate', '--tcp', '0', '--latency', 'bg69']);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/bg96/);
  const p = await startEmulate(['--latency', 'bg96', '--tcp', '0']);
  const sock = connect(Number(/:(\d+)$/.exec(p.url)![1]), '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await eventually(() => got.includes('RDY'), 10_000, () => `${p.url} ${got} ${p.out()} ${p.err()}`);
  // The bg96 profile gives a PDP activation 1000 ms (latencyProfiles.ts); a delay can come late, never early.
  const start = performance.now();
  sock.write('AT+QIACT=1\r');
  await eventually(() => /AT\+QIACT=1\r\r\n(OK|ERROR)\r\n/.test(got), 10_000, () => JSON.stringify(got));
  expect(got).toContain('AT+QIACT=1\r\r\nOK\r\n');
  expect(performance.now() - start).toBeGreaterThanOrEqual(1000);
  sock.destroy();
  p.child.kill('SIGINT');
  expect((await p.exited).code).toBe(0);
}, 20_000);
