/**
 * A password and a private key never appear in a trace event, an error message, an error context or an `unknown`
 * event: with echo on and off, with tracing off, on, and on with payload bytes, whole and in 1-byte reads.
 */
import { describe, expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { ScriptedPort, type ScriptChunking, type ScriptStep } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';
import { Modem } from '../../src/index.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';

const PASSWORD = 'hunter2-Sekrit';
const KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPZ3nYkq4TWMrDnVI',
  'X3fGvZyD8ucBwlC0VTc6JmL1zMihRANCAAQXgW5+Q7pAs4zqVY0c2eJ7hIBwxeHf',
  '-----END PRIVATE KEY-----', '',
].join('\n');
/** Texts that must never be seen: the password, and every line of the key that could identify it. */
const FORBIDDEN = [PASSWORD, ...KEY.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))];

function everythingShown(trace: AtTraceEvent[], unknown: string[], errors: unknown[]): string {
  const errorText = (e: unknown): string => {
    if (!(e instanceof Error)) return String(e);
    const ctx = isQuectelError(e) ? JSON.stringify(e.context) : '';
    return `${e.message} ${ctx} ${e.stack ?? ''} ${e.cause ? errorText(e.cause) : ''}`;
  };
  return [
    ...trace.map((t) => `${t.text ?? ''} ${t.bytes ? Buffer.from(t.bytes).toString('latin1') : ''}`),
    ...unknown, ...errors.map(errorText),
  ].join('\n');
}

const key = Buffer.from(KEY);
const keyCk = `+QFUPL: ${key.length},${formatChecksum(quectelChecksum(key))}`;

/** What a module says for the session below, with echo on or off. */
function script(echo: boolean): ScriptStep[] {
  const e = (line: string) => (echo ? `${line}\r` : '');
  const qicsgp = `AT+QICSGP=1,1,"internet","bob","${PASSWORD}",1`;
  const upload = 'AT+QFUPL="k.pem",' + key.length + ',5';
  return [
    { expect: `${qicsgp}\r`, reply: `${e(qicsgp)}\r\nOK\r\n` },
    { expect: 'AT+QICSGP=1\r', reply: `${e('AT+QICSGP=1')}\r\n+QICSGP: 1,"internet","bob","${PASSWORD}",1\r\n\r\nOK\r\n` },
    // A refused set: the error names the command, with the password hidden.
    { expect: `AT+QICSGP=99,1,"internet","bob","${PASSWORD}",1\r`, reply: `${e(`AT+QICSGP=99,1,"internet","bob","${PASSWORD}",1`)}\r\nERROR\r\n` },
    // An upload the module echoes (a BG95 with ATE1, §6), then the key text again after OK (a BC66).
    { expect: `${upload}\r`, reply: `${e(upload)}\r\nCONNECT\r\n` },
    { expect: key, reply: [echo ? key : '', `${keyCk}\r\n\r\nOK\r\n`, echo ? KEY.replace(/\n/g, '\r\n') : ''] },
    { expect: 'AT+CGMM\r', reply: `${echo ? KEY.replace(/\n/g, '\r\n') : ''}${e('AT+CGMM')}\r\nBG96\r\n\r\nOK\r\n` },
    // A refused upload: its error context holds the reply lines, which must not hold key text.
    { expect: `${upload}\r`, reply: `${e(upload)}\r\nCONNECT\r\n` },
    { expect: key, reply: `${echo ? KEY.replace(/\n/g, '\r\n') : ''}\r\n+CME ERROR: 409\r\n` },
  ];
}

describe.each([true, false])('echo %s', (echo) => {
  describe.each([['no trace', undefined], ['trace', false], ['trace with payload bytes', true]] as const)('%s', (_n, traceData) => {
    test.each<[string, ScriptChunking]>([['whole', 'whole'], ['1-byte reads', 'bytes']])('nothing shown holds the password or key (%s)', async (_c, chunking) => {
      const port = new ScriptedPort(script(echo), { chunking });
      const trace: AtTraceEvent[] = [];
      const at = await AtClient.open(port, traceData === undefined ? {} : { trace: (t) => trace.push(t), traceData });
      const unknown: string[] = [];
      const errors: unknown[] = [];
      at.on('unknown', (l) => unknown.push(l));
      await at.send(`AT+QICSGP=1,1,"internet","bob","${PASSWORD}",1`);
      expect((await at.send('AT+QICSGP=1')).lines).toEqual([`+QICSGP: 1,"internet","bob","${PASSWORD}",1`]);
      await at.send(`AT+QICSGP=99,1,"internet","bob","${PASSWORD}",1`).catch((e: unknown) => errors.push(e));
      expect((await at.send(`AT+QFUPL="k.pem",${key.length},5`, { payload: key, sensitive: true })).lines).toEqual([keyCk]);
      expect((await at.send('AT+CGMM')).lines).toEqual(['BG96']);
      await at.send(`AT+QFUPL="k.pem",${key.length},5`, { payload: key, sensitive: true }).catch((e: unknown) => errors.push(e));
      await port.done();
      expect(errors).toHaveLength(2);
      const shown = everythingShown(trace, unknown, errors);
      for (const f of FORBIDDEN) expect(shown).not.toContain(f);
      if (traceData !== undefined) expect(shown).toContain('"bob","***"'); // the command is still there to read
      await at.close();
    });
  });
});

test('an APN password that the module refuses is not in MODEM_PDP_FAILED, its context, its cause, or the trace', async () => {
  const trace: AtTraceEvent[] = [];
  // EC200U has PDP contexts 1-7 only: AT+QICSGP for context 8 answers ERROR, the case the probe reported.
  const failure = await Modem.open('emulator:EC200U', {
    pdpContext: 8, apn: { apn: 'internet', user: 'bob', password: PASSWORD, auth: 1 }, at: { trace: (t) => trace.push(t) },
  }).catch((e: unknown) => e);
  expect(isQuectelError(failure, 'MODEM_PDP_FAILED')).toBe(true);
  const shown = everythingShown(trace, [], [failure]);
  expect(shown).not.toContain(PASSWORD);
  expect(shown).toContain('AT+QICSGP=8,1,"internet","bob","***",1');
});
