/**
 * An upload (`AT+QFUPL`: `CONNECT`, then the file) that fails before its `CONNECT` (a timeout, an abort) may still be
 * opened by the module, which then stores the next bytes it hears under the file's name. The engine writes nothing
 * until the upload's fate is known: a late `CONNECT` gets the upload's own bytes (so the file is what the caller
 * meant), a late final result ends the wait, and only then does the resync go out. The scripted port fails on any
 * byte it does not expect, so "nothing else was written" is what these tests check. Found by the third attack
 * (a 1000-byte certificate stored as `AT+CSQ\r` and Ctrl-Z filler, trusted by every later wrap).
 */
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { ScriptedPort, type ScriptChunking } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';

const chunkings: Array<[string, ScriptChunking]> = [['whole', 'whole'], ['1-byte reads', 'bytes'], ['1-8 byte reads', { min: 1, max: 8, seed: 3 }]];
const file = Buffer.from('-----BEGIN CERTIFICATE-----\nAT+CSQ\r\n');
const upload = `AT+QFUPL="ca.pem",${file.length},10`;

async function run(steps: ConstructorParameters<typeof ScriptedPort>[0], chunking: ScriptChunking, abort: boolean) {
  const port = new ScriptedPort(steps, { chunking });
  const at = await AtClient.open(port, { lateUploadMs: 3000 });
  const ac = new AbortController();
  const sending = at.send(upload, { payload: file, payloadAfter: 'connect', expect: ['+QFUPL:'], ...(abort ? { signal: ac.signal } : { timeoutMs: 100 }) });
  if (abort) setTimeout(() => ac.abort(), 50);
  const failed = await sending.then(() => undefined, (e: unknown) => e);
  expect(isQuectelError(failed, abort ? 'AT_ABORTED' : 'AT_TIMEOUT'), String(failed)).toBe(true);
  // Queued at once: it must wait for the upload's fate and the resync, never go out in between.
  const next = await at.send('AT+CPIN?');
  expect(next.lines).toEqual(['+CPIN: READY']);
  await port.done();
  await at.close();
}

for (const abort of [false, true]) {
  const how = abort ? 'aborted' : 'timed out';
  test.each(chunkings)(`${how} before a late CONNECT: the file's own bytes go out, then the resync (%s)`, async (_n, chunking) => {
    await run([
      { expect: `${upload}\r` },
      { delayMs: 250 },
      { emit: '\r\nCONNECT\r\n' },
      { expect: file, reply: '\r\n+QFUPL: 38,1a2b\r\n\r\nOK\r\n' },
      { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
      { expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\nOK\r\n' },
    ], chunking, abort);
  });

  test.each(chunkings)(`${how}, then refused late (+CME ERROR): no bytes of the file, the resync, the next command (%s)`, async (_n, chunking) => {
    await run([
      { expect: `${upload}\r` },
      { delayMs: 250 },
      { emit: '\r\n+CME ERROR: 407\r\n' },
      { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
      { expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\nOK\r\n' },
    ], chunking, abort);
  });
}

test('a URC while the engine waits for a failed upload\'s fate still reaches its subscribers', async () => {
  const port = new ScriptedPort([
    { expect: `${upload}\r` },
    { delayMs: 200 },
    { emit: '\r\n+QIURC: "pdpdeact",1\r\n' },
    { emit: '\r\nCONNECT\r\n' },
    { expect: file, reply: '\r\n+QFUPL: 38,1a2b\r\n\r\nOK\r\n' },
    { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
    { expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port);
  const urcs: string[] = [];
  at.onUrc('', (l) => urcs.push(l));
  await at.send(upload, { payload: file, payloadAfter: 'connect', expect: ['+QFUPL:'], timeoutMs: 100 }).catch(() => undefined);
  await at.send('AT+CPIN?');
  expect(urcs).toEqual(['+QIURC: "pdpdeact",1']);
  await port.done();
  await at.close();
});
