/**
 * One regression test per defect found by the engine probes (issue: "Harden the AT engine"), each played byte for
 * byte by a ScriptedPort, whole, in 1-byte reads and in random 1–8 byte reads. The classes behind them are tested
 * by property tests (engineProperties.test.ts, hostileInput.test.ts, secrets.test.ts).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { ScriptedPort, type ScriptChunking, type ScriptStep } from '../../src/at/ScriptedPort.js';
import { isQuectelError, type QuectelErrorCode } from '../../src/errors.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';

const chunkings: Array<[string, ScriptChunking]> = [
  ['whole', 'whole'], ['1-byte reads', 'bytes'], ['1-8 byte reads', { min: 1, max: 8, seed: 7 }], ['1-8 byte reads, seed 2', { min: 1, max: 8, seed: 2 }],
];
const code = (c: QuectelErrorCode) => (e: unknown) => isQuectelError(e, c);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** A client on a scripted port, with its trace, URCs, resets and unknown lines collected. */
async function scripted(steps: ScriptStep[], chunking: ScriptChunking, options: Parameters<typeof AtClient.open>[1] = {}) {
  const port = new ScriptedPort(steps, { chunking });
  const trace: AtTraceEvent[] = [];
  const at = await AtClient.open(port, { trace: (e) => trace.push(e), ...options });
  const urcs: string[] = [];
  const resets: string[] = [];
  const unknown: string[] = [];
  at.onUrc('', (l) => urcs.push(l));
  at.on('reset', (l) => resets.push(l));
  at.on('unknown', (l) => unknown.push(l));
  return { port, at, trace, urcs, resets, unknown };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a reply glued behind RDY keeps its framing', () => {
  // The payload holds what used to leak: a reset line, a URC, and a reply the fence and the next command would take.
  const payload = latin1('RDY\r\n+QSSLURC: "closed",0\r\n\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n');
  test.each(chunkings)('+QSSLRECV after RDY: data intact, one reset, no URC, the next command gets its own reply (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'AT+QSSLRECV=0,1500\r', reply: Buffer.concat([latin1(`\r\nRDY\r\n\r\n+QSSLRECV: ${payload.length}\r\n`), payload, latin1('\r\n\r\nOK\r\n')]) },
      { expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\nOK\r\n' },
    ], chunking);
    const r = await s.at.send('AT+QSSLRECV=0,1500');
    expect(Buffer.from(r.data).equals(payload)).toBe(true);
    expect((await s.at.send('AT+CPIN?')).lines).toEqual(['+CPIN: READY']);
    expect(s.resets).toEqual(['RDY']);
    expect(s.urcs).toEqual([]);
    await s.port.done();
    await s.at.close();
  });

  test.each(chunkings)('a command the module never answers after RDY fails with AT_MODULE_RESET after the grace, not its timeout (%s)', async (_n, chunking) => {
    vi.useFakeTimers();
    const s = await scripted([
      { expect: 'AT+QIACT=1\r', reply: '\r\nRDY\r\n' },
      { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
      { expect: 'AT\r', reply: '\r\nOK\r\n' },
    ], chunking);
    const act = s.at.send('AT+QIACT=1', { timeoutMs: 150_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(600);
    expect(code('AT_MODULE_RESET')(await act)).toBe(true);
    const next = s.at.send('AT');
    await vi.advanceTimersByTimeAsync(10);
    expect((await next).final).toBe('OK');
    await s.port.done();
    await s.at.close();
  });

  test.each(chunkings)('RDY between the echo and the result: the command completes and the reset is reported (%s)', async (_n, chunking) => {
    const s = await scripted([{ expect: 'AT+CGMM\r', reply: 'AT+CGMM\r\r\nRDY\r\n\r\nBG96\r\n\r\nOK\r\n' }], chunking);
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    expect(s.resets).toEqual(['RDY']);
    await s.at.close();
  });
});

describe('lines before the command\'s own echo are not its reply', () => {
  test.each(chunkings)('certificate text still printed after the last OK is not credited to the next command (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'ATI\r', reply: 'ATI\r\r\nQuectel\r\nBG96\r\n\r\nOK\r\n' },
      { expect: 'AT+CGMM\r', reply: '-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgI\r\nAT+CGMM\r\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking);
    expect((await s.at.send('ATI')).lines).toEqual(['Quectel', 'BG96']);
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    expect(s.unknown).toEqual(['-----BEGIN CERTIFICATE-----', 'MIIBszCCAVmgAwIBAgI']);
    await s.at.close();
  });

  test.each(chunkings)('output glued to the echo without a line end is split off (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'ATI\r', reply: 'ATI\r\r\nQuectel\r\n\r\nOK\r\n' },
      { expect: 'AT+CGMM\r', reply: '-----END CERTIFICATE-----AT+CGMM\r\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking);
    await s.at.send('ATI');
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    await s.at.close();
  });

  test.each(chunkings)('a module that stopped echoing (ATE0 the engine did not see) still gets its reply (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'ATI\r', reply: 'ATI\r\r\nQuectel\r\n\r\nOK\r\n' },
      { expect: 'AT+CGMM\r', reply: '\r\nBG96\r\n\r\nOK\r\n' },
      { expect: 'AT+CGMM\r', reply: '\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking);
    await s.at.send('ATI');
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    await s.at.close();
  });
});

describe('downloads', () => {
  test.each(chunkings)('a file holding a trailer with its own offset as size ends only at the real trailer (%s)', async (_n, chunking) => {
    const head = latin1('# CA bundle\r\n');
    const fake = latin1(`\r\n+QFDWL: ${head.length},1234\r\n\r\nOK\r\n`);
    const file = Buffer.concat([head, fake, latin1('-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n')]);
    const s = await scripted([
      { expect: 'AT+QFDWL="ca.pem"\r', reply: Buffer.concat([latin1('\r\nCONNECT\r\n'), file, latin1(`\r\n+QFDWL: ${file.length},${formatChecksum(quectelChecksum(file))}\r\n\r\nOK\r\n`)]) },
      { expect: 'AT\r', reply: '\r\nOK\r\n' },
    ], chunking);
    const r = await s.at.send('AT+QFDWL="ca.pem"');
    expect(createHash('sha256').update(r.data).digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
    expect((await s.at.send('AT')).final).toBe('OK');
    expect(s.unknown).toEqual([]);
    await s.at.close();
  });
});

describe('malformed and overlong replies', () => {
  for (const count of ['-1', 'NaN', '0x10', '', '99999999999', '1e3']) {
    test.each(chunkings)(`+QSSLRECV: ${count} is AT_BAD_REPLY, then the engine resynchronises (%s)`, async (_n, chunking) => {
      const s = await scripted([
        { expect: 'AT+QSSLRECV=0,1500\r', reply: `\r\n+QSSLRECV: ${count}\r\nabc\r\n\r\nOK\r\n` },
        { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
        { expect: 'AT+CGMM\r', reply: '\r\nBG96\r\n\r\nOK\r\n' },
      ], chunking);
      await expect(s.at.send('AT+QSSLRECV=0,1500')).rejects.toSatisfy(code('AT_BAD_REPLY'));
      expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
      await s.port.done();
      await s.at.close();
    });
  }

  test.each(chunkings)('a line past the bound is AT_BAD_REPLY, and the engine reads on (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'AT+CGMM\r', reply: `\r\n${'x'.repeat(5000)}\r\n\r\nOK\r\n` },
      { expect: 'AT+CMEE?\r', reply: '\r\n+CMEE: 1\r\n\r\nOK\r\n' },
      { expect: 'AT+CGMM\r', reply: '\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking, { maxLineLength: 1024 });
    await expect(s.at.send('AT+CGMM')).rejects.toSatisfy(code('AT_BAD_REPLY'));
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    await s.at.close();
  });
});

describe('the raw client knows its dialect', () => {
  test.each(chunkings)('read forms: their own prefix is their reply, not a URC (%s)', async (_n, chunking) => {
    const queries: Array<[string, string]> = [
      ['AT+CPIN?', '+CPIN: READY'], ['AT+CREG?', '+CREG: 0,1'], ['AT+CGREG?', '+CGREG: 0,1'], ['AT+CEREG?', '+CEREG: 0,1'],
      ['AT+CFUN?', '+CFUN: 1'], ['AT+QSSLCFG="sni",1', '+QSSLCFG: "sni",1,1'],
    ];
    const s = await scripted(queries.map(([q, l]) => ({ expect: `${q}\r`, reply: `\r\n${l}\r\n\r\nOK\r\n` })), chunking);
    for (const [q, l] of queries) expect((await s.at.send(q)).lines).toEqual([l]);
    expect(s.urcs).toEqual([]);
    await s.at.close();
  });

  test.each(chunkings)('AT+QSSLRECV with no options: counted bytes holding \\r\\nOK\\r\\n stay data (%s)', async (_n, chunking) => {
    const data = latin1('HTTP/1.0 200 OK\r\n\r\nOK\r\nERROR\r\n');
    const s = await scripted([
      { expect: 'AT+QSSLRECV=0,1500\r', reply: Buffer.concat([latin1(`\r\n+QSSLRECV: ${data.length}\r\n`), data, latin1('\r\n\r\nOK\r\n')]) },
      { expect: 'AT+CGMM\r', reply: '\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking);
    expect(Buffer.from((await s.at.send('AT+QSSLRECV=0,1500')).data).equals(data)).toBe(true);
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    await s.at.close();
  });

  test.each(chunkings)('late results of MQTT and HTTP are URCs, never the next command\'s reply (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'AT+QSSLOPEN=1,1,0,"h.test",443,0\r', reply: '\r\n+QHTTPGET: 0,200\r\n\r\n+QMTOPEN: 0,0\r\n\r\nOK\r\n\r\n+QSSLOPEN: 0,0\r\n' },
      { expect: 'AT+CGMM\r', reply: '\r\n+QMTSTAT: 0,1\r\n\r\nBG96\r\n\r\nOK\r\n' },
    ], chunking);
    const open = await s.at.send('AT+QSSLOPEN=1,1,0,"h.test",443,0');
    expect(open).toMatchObject({ lines: [], late: '+QSSLOPEN: 0,0' });
    expect((await s.at.send('AT+CGMM')).lines).toEqual(['BG96']);
    expect(s.urcs).toEqual(['+QHTTPGET: 0,200', '+QMTOPEN: 0,0', '+QSSLOPEN: 0,0', '+QMTSTAT: 0,1']);
    await s.at.close();
  });

  test('explicit options still win over the dialect', async () => {
    const s = await scripted([{ expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\nOK\r\n' }], 'whole');
    expect((await s.at.send('AT+CPIN?', { expect: ['+XYZ:'] })).lines).toEqual([]);
    expect(s.unknown).toEqual([]);
    expect(s.urcs).toEqual(['+CPIN: READY']);
    await s.at.close();
  });
});

describe('a URC with the reply\'s own prefix before the reply', () => {
  test.each(chunkings)('a boot\'s +CPIN: READY before the reply +CPIN: SIM PIN is a URC, the reply is the last line (%s)', async (_n, chunking) => {
    const s = await scripted([
      { expect: 'AT+CPIN?\r', reply: '\r\n+CPIN: READY\r\n\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n' },
      { expect: 'AT+CEREG?\r', reply: '\r\n+CEREG: 1\r\n\r\n+CEREG: 0,2\r\n\r\nOK\r\n' },
    ], chunking);
    expect((await s.at.send('AT+CPIN?')).lines).toEqual(['+CPIN: SIM PIN']);
    expect((await s.at.send('AT+CEREG?')).lines).toEqual(['+CEREG: 0,2']);
    expect(s.urcs).toEqual(['+CPIN: READY', '+CEREG: 1']);
    await s.at.close();
  });
});
