/**
 * `ussl-bridge emulate --tcp` serves a virtual module until interrupted (the server's own suites are in
 * test/server/); here, the command line's part: the global --model chooses the model, and SIGINT stops it with 0.
 */
import { connect } from 'node:net';
import { expect, test } from 'vitest';
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
