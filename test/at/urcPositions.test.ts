/**
 * A URC inserted at every legal position of every kind of response (never inside a counted data block, nor between
 * the prompt and the payload, §1.3), delivered whole and in random 1–8 byte chunks: each URC reaches its subscriber
 * exactly once and each reply stays intact.
 */
import { describe, expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { SendOptions } from '../../src/at/AtClient.js';
import { ScriptedPort, type ScriptChunking, type ScriptStep } from '../../src/at/ScriptedPort.js';

const URC = '\r\n+QSSLURC: "closed",3\r\n';
const DATA = Buffer.concat([Buffer.from('\r\nOK\r\n\r\n> +QSSLURC: "recv",0\r\n'), Buffer.from([0, 0x1a, 0xff])]);
const PAYLOAD = Buffer.from('hello');

interface Kind {
  readonly command: string;
  readonly options: SendOptions;
  /** The module's reply as segments; a URC may go between any two, before the first or after the last. */
  readonly segments: readonly string[];
  /** The host payload comes after this segment index (prompt or CONNECT). */
  readonly payloadAfter?: number;
  readonly expected: { lines: string[]; final?: string; late?: string; data?: Buffer; error?: string };
}

const kinds: Record<string, Kind> = {
  information: {
    command: 'AT+CPIN?', options: { expect: ['+CPIN:'] }, segments: ['\r\n+CPIN: READY\r\n', '\r\nOK\r\n'],
    expected: { lines: ['+CPIN: READY'], final: 'OK' },
  },
  'multi-line': {
    command: 'ATI', options: {}, segments: ['\r\nQuectel\r\n', 'BG96\r\n', 'Revision: BG96MAR02A07M1G\r\n', '\r\nOK\r\n'],
    expected: { lines: ['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G'], final: 'OK' },
  },
  'counted data': {
    command: 'AT+QSSLRECV=0,1500', options: { dataPrefix: '+QSSLRECV:', expect: ['+QSSLRECV:'] },
    segments: [`\r\n+QSSLRECV: ${DATA.length}\r\n${DATA.toString('latin1')}\r\n`, '\r\nOK\r\n'],
    expected: { lines: [`+QSSLRECV: ${DATA.length}`], final: 'OK', data: DATA },
  },
  'send prompt': {
    command: 'AT+QSSLSEND=0,5', options: { payload: PAYLOAD }, segments: ['\r\n> ', '\r\nSEND OK\r\n'], payloadAfter: 0,
    expected: { lines: [], final: 'SEND OK' },
  },
  upload: {
    command: 'AT+QFUPL="a.txt",5,5', options: { payload: PAYLOAD, payloadAfter: 'connect', expect: ['+QFUPL:'] },
    segments: ['\r\nCONNECT\r\n', '\r\n+QFUPL: 5,2d2f\r\n', '\r\nOK\r\n'], payloadAfter: 0,
    expected: { lines: ['+QFUPL: 5,2d2f'], final: 'OK' },
  },
  'late result': {
    command: 'AT+QSSLOPEN=1,1,0,"h.test",443,0', options: { lateResult: { prefix: '+QSSLOPEN: 0,', timeoutMs: 2000 } },
    segments: ['\r\nOK\r\n', '\r\n+QSSLOPEN: 0,0\r\n'], expected: { lines: [], final: 'OK', late: '+QSSLOPEN: 0,0' },
  },
  'CME error': {
    command: 'AT+QFDEL="x"', options: {}, segments: ['\r\n+CME ERROR: 405\r\n'], expected: { lines: [], error: 'AT_CME_ERROR' },
  },
};

/** The script for `kind` with the URC inserted before segment `at` (segments.length = after the last). */
function script(kind: Kind, at: number): ScriptStep[] {
  const parts = [...kind.segments];
  parts.splice(at, 0, URC);
  const urcIndexShift = (i: number) => (i >= at ? i + 1 : i);
  if (kind.payloadAfter === undefined) return [{ expect: `${kind.command}\r`, reply: parts }];
  const cut = urcIndexShift(kind.payloadAfter) + 1;
  return [
    { expect: `${kind.command}\r`, reply: parts.slice(0, cut) },
    { expect: PAYLOAD, reply: parts.slice(cut) },
  ];
}

/** Legal insertion points: anywhere but between the prompt/CONNECT and the payload. */
function positions(kind: Kind): number[] {
  return Array.from({ length: kind.segments.length + 1 }, (_, i) => i).filter((i) => kind.payloadAfter === undefined || i !== kind.payloadAfter + 1);
}

const chunkings: Array<[string, ScriptChunking]> = [['whole', 'whole'], ['1-8 bytes seed 7', { min: 1, max: 8, seed: 7 }], ['1-8 bytes seed 42', { min: 1, max: 8, seed: 42 }]];

describe.each(Object.entries(kinds))('%s', (_name, kind) => {
  const cases = positions(kind).flatMap((p) => chunkings.map(([c, chunking]) => [p, c, chunking] as const));
  test.each(cases)('URC before segment %i, %s', async (at, _c, chunking) => {
    const port = new ScriptedPort(script(kind, at), { chunking });
    const client = await AtClient.open(port, { defaultTimeoutMs: 2000 });
    const urcs: string[] = [];
    client.onUrc('+QSSLURC:', (l) => urcs.push(l));
    const reply = await client.send(kind.command, { ...kind.options, timeoutMs: 2000 }).catch((e: unknown) => e);
    await port.done();
    await new Promise((r) => setTimeout(r, 5));
    if (kind.expected.error) {
      expect((reply as { code?: string }).code).toBe(kind.expected.error);
    } else {
      expect(reply).toMatchObject({ lines: kind.expected.lines, final: kind.expected.final });
      if (kind.expected.late) expect((reply as { late?: string }).late).toBe(kind.expected.late);
      if (kind.expected.data) expect(Buffer.from((reply as { data: Uint8Array }).data).equals(kind.expected.data)).toBe(true);
    }
    expect(urcs).toEqual(['+QSSLURC: "closed",3']);
    await client.close();
  });
});
