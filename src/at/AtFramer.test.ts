import { describe, expect, test } from 'vitest';
import { latin1, splits } from '../../test/helpers/chunks.js';
import { AtFramer, type AtFrame, type FramerHooks } from './AtFramer.js';

const RECV = /^\+(?:QSSLRECV|QIRD): (\d+)$/;
const PUSH = /^\+(?:QSSLURC|QIURC): "recv",\d+,(\d+)$/;
const hooks: FramerHooks = {
  modeAfter(line) {
    const m = RECV.exec(line) ?? PUSH.exec(line);
    if (m) return { data: Number(m[1]) };
    if (line === 'CONNECT') return { rawUntil: /\r\n\+QFDWL: (\d+),([0-9a-f]+)\r\n/ };
    return undefined;
  },
};

type Plain = { kind: string; text?: string; line?: string; hex?: string; trailer?: string };
const plain = (f: AtFrame): Plain => {
  switch (f.kind) {
    case 'line': return { kind: 'line', text: f.text };
    case 'prompt': return { kind: 'prompt' };
    case 'data': return { kind: 'data', line: f.line, hex: Buffer.from(f.bytes).toString('hex') };
    case 'raw': return { kind: 'raw', trailer: f.trailer, hex: Buffer.from(f.bytes).toString('hex') };
  }
};

/** Runs `input` through a framer whole and in random chunks; every run must give the same frames. */
function expectFrames(input: Uint8Array, expected: Plain[], setup?: (f: AtFramer) => void): void {
  for (const { name, chunks } of splits(input)) {
    const framer = new AtFramer(hooks);
    setup?.(framer);
    const frames = chunks.flatMap((c) => framer.push(c)).map(plain);
    expect(frames, name).toEqual(expected);
    expect(framer.partial, name).toBe(false);
  }
}

const line = (text: string): Plain => ({ kind: 'line', text });

describe('lines', () => {
  test('information response: blank lines dropped', () => {
    expectFrames(latin1('\r\n+CPIN: READY\r\n\r\nOK\r\n'), [line('+CPIN: READY'), line('OK')]);
  });
  test('the echo of a command ends in CR CR LF', () => {
    expectFrames(latin1('AT\r\r\nOK\r\n'), [line('AT'), line('OK')]);
  });
  test('T08 glued sequences: RDY with the first reply, APP RDY before +CPIN', () => {
    expectFrames(latin1('\r\nRDY\r\nAT\r\r\nOK\r\n'), [line('RDY'), line('AT'), line('OK')]);
    expectFrames(latin1('\r\nAPP RDY\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n'), [line('APP RDY'), line('+CPIN: READY'), line('OK')]);
  });
  test('bytes 0x80-0xff in a line survive (latin1, no UTF-8 decoding)', () => {
    expectFrames(latin1('\r\n+QFLST: "\xe9\xff.pem",3\r\n'), [line('+QFLST: "\xe9\xff.pem",3')]);
  });
});

describe('prompt', () => {
  test('`\\r\\n> ` is a prompt only when armed; its space is swallowed', () => {
    expectFrames(latin1('\r\n> \r\nSEND OK\r\n'), [{ kind: 'prompt' }, line('SEND OK')], (f) => f.expectPrompt(true));
    expectFrames(latin1('\r\n> x\r\n'), [line('> x')]);
  });
  test('a URC before the prompt stays a line', () => {
    expectFrames(latin1('\r\n+QSSLURC: "recv",1\r\n\r\n> '), [line('+QSSLURC: "recv",1'), { kind: 'prompt' }], (f) => f.expectPrompt(true));
  });
});

describe('counted data', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const traps = latin1('\r\nOK\r\n\r\nERROR\r\n+QSSLURC: "closed",0\r\n\r\n> ');
  for (const [name, payload] of [['all 256 byte values', all], ['OK, ERROR, a closed URC and a prompt', traps]] as const) {
    test(`+QSSLRECV payload with ${name}`, () => {
      const input = Buffer.concat([latin1(`\r\n+QSSLRECV: ${payload.length}\r\n`), payload, latin1('\r\n\r\nOK\r\n')]);
      expectFrames(input, [{ kind: 'data', line: `+QSSLRECV: ${payload.length}`, hex: payload.toString('hex') }, line('OK')],
        (f) => f.expectPrompt(true));
    });
    test(`direct-push URC with ${name}, then a URC`, () => {
      const input = Buffer.concat([latin1(`\r\n+QSSLURC: "recv",3,${payload.length}\r\n`), payload, latin1('\r\n\r\n+QSSLURC: "closed",3\r\n')]);
      expectFrames(input, [{ kind: 'data', line: `+QSSLURC: "recv",3,${payload.length}`, hex: payload.toString('hex') }, line('+QSSLURC: "closed",3')]);
    });
  }
  test('an empty read is a data frame with no bytes', () => {
    expectFrames(latin1('\r\n+QSSLRECV: 0\r\n\r\nOK\r\n'), [{ kind: 'data', line: '+QSSLRECV: 0', hex: '' }, line('OK')]);
  });
});

describe('raw download', () => {
  test('the file ends at the trailer whose size matches, even if the file contains a trailer-like text', () => {
    const file = latin1('abc\r\n+QFDWL: 9,1\r\nxyz'); // a size that does not match its offset
    const input = Buffer.concat([latin1('\r\nCONNECT\r\n'), file, latin1('\r\n+QFDWL: 21,4c5a\r\n\r\nOK\r\n')]);
    expectFrames(input, [line('CONNECT'), { kind: 'raw', trailer: '+QFDWL: 21,4c5a', hex: file.toString('hex') }, line('OK')]);
  });
});
