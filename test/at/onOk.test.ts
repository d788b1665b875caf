/**
 * `AtCommand.onOk` runs where the `OK` is in the byte stream: a command that changes how later bytes are framed
 * (`AT+QISWTMD=<id>,1` makes `+QSSLURC: "recv",<id>,<len>` counted data, quectel-at.md §5.1) must have changed it
 * before the rest of the same read is framed, not when the caller's promise resumes a microtask later.
 */
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { ScriptedPort, type ScriptChunking } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';

const chunkings: Array<[string, ScriptChunking]> = [['whole', 'whole'], ['1-byte reads', 'bytes'], ['1-8 byte reads', { min: 1, max: 8, seed: 5 }]];

/** An engine whose `+QSSLURC: "recv",0,<n>` carries data only while `push.on`. */
async function client(port: ScriptedPort): Promise<{ at: AtClient; push: { on: boolean }; urcs: Array<[string, string | undefined]>; unknown: string[] }> {
  const push = { on: false };
  const at = await AtClient.open(port, {
    urcDataLength: (line) => {
      const m = /^\+QSSLURC: "recv",0,(\d+)$/.exec(line);
      return m && push.on ? Number(m[1]) : undefined;
    },
  });
  const urcs: Array<[string, string | undefined]> = [];
  const unknown: string[] = [];
  at.onUrc('+QSSLURC', (line, data) => urcs.push([line, data && Buffer.from(data).toString('latin1')]));
  at.on('unknown', (line) => unknown.push(line));
  return { at, push, urcs, unknown };
}

test.each(chunkings)('a push URC glued behind the OK of the switch is framed as data (%s)', async (_n, chunking) => {
  const port = new ScriptedPort([
    { expect: 'ATE0\r', reply: '\r\nOK\r\n' },
    // The data holds a line end and what looks like a result code: read as lines, the stream would go wrong.
    { expect: 'AT+QISWTMD=0,1\r', reply: '\r\nOK\r\n\r\n+QSSLURC: "recv",0,9\r\nab\r\nOK\r\nc\r\n\r\n+QSSLURC: "recv",0,2\r\nde\r\n' },
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ], { chunking });
  const { at, push, urcs, unknown } = await client(port);
  await at.send('ATE0');
  await at.send('AT+QISWTMD=0,1', { onOk: () => (push.on = true) });
  await at.send('AT');
  expect(urcs).toEqual([['+QSSLURC: "recv",0,9', 'ab\r\nOK\r\nc'], ['+QSSLURC: "recv",0,2', 'de']]);
  expect(unknown).toEqual([]);
  await port.done();
  await at.close();
});

test.each(chunkings)('the other way: a notification behind the OK of a switch to buffer mode carries no data (%s)', async (_n, chunking) => {
  const port = new ScriptedPort([
    { expect: 'ATE0\r', reply: '\r\nOK\r\n' },
    { expect: 'AT+QISWTMD=0,0\r', reply: '\r\n+QSSLURC: "recv",0,2\r\nxy\r\n\r\nOK\r\n\r\n+QSSLURC: "recv",0,1500\r\n' },
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ], { chunking });
  const { at, push, urcs, unknown } = await client(port);
  push.on = true;
  await at.send('ATE0');
  await at.send('AT+QISWTMD=0,0', { onOk: () => (push.on = false) });
  await at.send('AT');
  expect(urcs).toEqual([['+QSSLURC: "recv",0,2', 'xy'], ['+QSSLURC: "recv",0,1500', undefined]]);
  expect(unknown).toEqual([]);
  await port.done();
  await at.close();
});

test('onOk does not run when the command fails', async () => {
  const port = new ScriptedPort([{ expect: 'ATE0\r', reply: '\r\nOK\r\n' }, { expect: 'AT+QISWTMD=0,0\r', reply: '\r\nERROR\r\n' }]);
  const { at } = await client(port);
  await at.send('ATE0');
  let ran = false;
  await expect(at.send('AT+QISWTMD=0,0', { onOk: () => (ran = true) })).rejects.toSatisfy((e: unknown) => isQuectelError(e, 'AT_ERROR'));
  expect(ran).toBe(false);
  await port.done();
  await at.close();
});
