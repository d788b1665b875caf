/**
 * Regression tests from review: the resynchronisation after a failure, late replies, and settling every promise.
 * Each plays exact bytes with a ScriptedPort (or a transport whose writes never complete).
 */
import { EventEmitter, getEventListeners } from 'node:events';
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { UNSTICK_PAYLOAD } from '../../src/at/AtEngine.js';
import { ScriptedPort } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';
import type { Transport, TransportEvents } from '../../src/transport/Transport.js';

const code = (c: string) => (e: unknown) => isQuectelError(e) && e.code === c;
/** The second fence attempt: first the bytes that end a payload the module may wait for, then a CR, then the query. */
const unstuck = (query: string) => Buffer.concat([UNSTICK_PAYLOAD, Buffer.from(`\r${query}`)]);

test('each fence attempt asks something else, so a late reply to one attempt never satisfies the next', async () => {
  const port = new ScriptedPort([
    { expect: 'AT+QIACT=1\r' }, // busy: no answer in time
    { expect: 'AT+CMEE?\r' }, // attempt 1, held by the busy module
    // Attempt 2; then the module catches up: QIACT's OK, attempt 1's reply, attempt 2's reply.
    { expect: unstuck('AT+CSQ\r'), reply: '\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n\r\n+CSQ: 24,99\r\n\r\nOK\r\n' },
    { expect: 'ATI\r', reply: '\r\nQuectel\r\n\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port, { fenceTimeoutMs: 100 });
  await expect(at.send('AT+QIACT=1', { timeoutMs: 50 })).rejects.toSatisfy(code('AT_TIMEOUT'));
  expect((await at.send('ATI')).lines).toEqual(['Quectel']);
  await port.done();
  await at.close();
});

test('a lost byte in a counted download does not leave the framer swallowing everything', async () => {
  const port = new ScriptedPort([
    { expect: 'AT+QFDWL="a.pem"\r', reply: '\r\nCONNECT\r\nabc\r\n+QFDWL: 4,1e\r\n\r\nOK\r\n' }, // 4 announced, 3 came
    { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' }, // swallowed as file bytes: the attempt fails
    { expect: unstuck('AT+CSQ\r'), reply: '\r\n+CSQ: 24,99\r\n\r\nOK\r\n' }, // after a framer reset it is seen
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port, { fenceTimeoutMs: 80 });
  await expect(at.send('AT+QFDWL="a.pem"', { download: true, timeoutMs: 50 })).rejects.toSatisfy(code('AT_TIMEOUT'));
  expect((await at.send('AT')).final).toBe('OK');
  await port.done();
  await at.close();
});

test('the late data of a timed-out read is framed as data, never parsed as lines', async () => {
  const payload = 'x\r\nRDY\r\n+QSSLURC: "closed",0\r\n';
  const port = new ScriptedPort([
    { expect: 'AT+QSSLRECV=0,1500\r' },
    { expect: 'AT+CMEE?\r', reply: `\r\n+QSSLRECV: ${payload.length}\r\n${payload}\r\n\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n` },
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port);
  const events: string[] = [];
  at.on('reset', (l) => events.push(`reset ${l}`));
  at.onUrc('', (l) => events.push(`urc ${l}`));
  await expect(at.send('AT+QSSLRECV=0,1500', { dataPrefix: '+QSSLRECV:', timeoutMs: 30 })).rejects.toSatisfy(code('AT_TIMEOUT'));
  expect((await at.send('AT')).final).toBe('OK');
  expect(events).toEqual([]);
  await port.done();
  await at.close();
});

test('a late prompt for a send that already failed is cancelled with ESC, not fed the resync', async () => {
  const port = new ScriptedPort([
    { expect: 'AT+QSSLSEND=0,5\r' },
    { expect: 'AT+CMEE?\r', reply: '\r\n> ' },
    { expect: Uint8Array.of(0x1b), reply: '\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n' },
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port);
  await expect(at.send('AT+QSSLSEND=0,5', { payload: Buffer.from('hello'), timeoutMs: 30 })).rejects.toSatisfy(code('AT_TIMEOUT'));
  expect((await at.send('AT')).final).toBe('OK');
  await port.done();
  await at.close();
});

test('a late result with a prefix no URC table knows is still matched, not credited to the next command', async () => {
  const port = new ScriptedPort([
    { expect: 'AT+QPING=1,"h"\r', reply: '\r\nOK\r\n' },
    { expect: 'ATI\r', reply: '\r\n+QPING: 0,"1.2.3.4",32,20,255\r\n\r\nQuectel\r\n\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port);
  const ping = at.send('AT+QPING=1,"h"', { lateResult: { prefix: '+QPING:', timeoutMs: 1000 } });
  const ati = at.send('ATI');
  expect((await ati).lines).toEqual(['Quectel']);
  expect((await ping).late).toBe('+QPING: 0,"1.2.3.4",32,20,255');
  await port.done();
  await at.close();
});

test('a write that never completes still ends in AT_TIMEOUT', async () => {
  class StuckTransport extends EventEmitter<TransportEvents> implements Transport {
    readonly url = 'stuck:';
    readonly isOpen = true;
    write(): Promise<void> {
      return new Promise(() => {});
    }
    close(): Promise<void> {
      this.emit('close', { reason: 'closed' });
      return Promise.resolve();
    }
  }
  const at = await AtClient.open(new StuckTransport());
  await expect(at.send('AT', { timeoutMs: 50 })).rejects.toSatisfy(code('AT_TIMEOUT'));
  await at.close();
});

test('abort listeners are removed once a command settles', async () => {
  const replies = Array.from({ length: 50 }, () => ({ expect: 'AT\r', reply: '\r\nOK\r\n' }));
  const port = new ScriptedPort(replies);
  const at = await AtClient.open(port);
  const signal = new AbortController().signal;
  for (let i = 0; i < 50; i++) await at.send('AT', { signal });
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  await at.close();
});

test('APP RDY arriving during the fence after a restart is the same boot, not a second restart', async () => {
  const port = new ScriptedPort([
    { expect: 'AT+CEREG?\r', reply: '\r\nRDY\r\n' },
    { expect: 'AT+CMEE?\r', reply: '\r\nAPP RDY\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n' },
    { expect: 'AT\r', reply: '\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port);
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  await expect(at.send('AT+CEREG?', { expect: ['+CEREG:'] })).rejects.toSatisfy(code('AT_MODULE_RESET'));
  expect((await at.send('AT')).final).toBe('OK');
  expect(resets).toEqual(['RDY']);
  await port.done();
  await at.close();
});
