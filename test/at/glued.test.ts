/**
 * The real glued sequences of quectel-at.md §1.3 (T08), played byte for byte by a ScriptedPort, whole and split.
 */
import { once } from 'node:events';
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { ScriptedPort, type ScriptChunking } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';

const chunkings: Array<[string, ScriptChunking]> = [['whole', 'whole'], ['1-byte reads', 'bytes'], ['1-8 byte reads', { min: 1, max: 8, seed: 3 }]];

test.each(chunkings)('`\\r\\nRDY\\r\\nAT\\r\\r\\nOK\\r\\n`: the restart is reported and the command it still answers completes (%s)', async (_n, chunking) => {
  const port = new ScriptedPort([
    { expect: 'AT\r', reply: '\r\nRDY\r\nAT\r\r\nOK\r\n' },
    { expect: 'AT+CGMM\r', reply: 'AT+CGMM\r\r\nBG96\r\n\r\nOK\r\n' },
  ], { chunking });
  const at = await AtClient.open(port);
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  expect((await at.send('AT')).final).toBe('OK');
  expect((await at.send('AT+CGMM')).lines).toEqual(['BG96']);
  expect(resets).toEqual(['RDY']);
  await port.done();
  await at.close();
});

test.each(chunkings)('`APP RDY` between a command and its +CPIN: READY is a boot URC, not another restart (%s)', async (_n, chunking) => {
  const port = new ScriptedPort([
    { emit: '\r\nRDY\r\n' },
    { expect: 'AT+CPIN?\r', reply: '\r\nAPP RDY\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n' },
  ], { chunking });
  const at = await AtClient.open(port);
  const urcs: string[] = [];
  at.onUrc('APP RDY', (l) => urcs.push(l));
  await once(at.engine, 'reset');
  const r = await at.send('AT+CPIN?', { expect: ['+CPIN:'] });
  expect(r.lines).toEqual(['+CPIN: READY']);
  expect(urcs).toEqual(['APP RDY']);
  await port.done();
  await at.close();
});

test.each(chunkings)('APP RDY with no RDY before it (a host attached after RDY) is a boot finishing: the command completes (%s)', async (_n, chunking) => {
  const port = new ScriptedPort([{ expect: 'AT+CGMM\r', reply: '\r\nAPP RDY\r\n\r\nBG96\r\n\r\nOK\r\n' }], { chunking });
  const at = await AtClient.open(port);
  const events: string[] = [];
  at.on('reset', (l) => events.push(`reset ${l}`));
  at.onUrc('APP RDY', (l) => events.push(`urc ${l}`));
  expect((await at.send('AT+CGMM')).lines).toEqual(['BG96']);
  expect(events).toEqual(['urc APP RDY']);
  await port.done();
  await at.close();
});
