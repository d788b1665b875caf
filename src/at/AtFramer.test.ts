import { describe, expect, test } from 'vitest';
import { latin1, splits } from '../../test/helpers/chunks.js';
import { AtFramer, type AtFrame, type FramerMode, type FramerOptions } from './AtFramer.js';
import { formatChecksum, quectelChecksum } from '../protocol/checksum.js';

const RECV = /^\+(?:QSSLRECV|QIRD): (\d+)$/;
const PUSH = /^\+(?:QSSLURC|QIURC): "recv",\d+,(\d+)$/;
function modeAfter(line: string): FramerMode | undefined {
  const m = RECV.exec(line) ?? PUSH.exec(line);
  if (m) return { data: Number(m[1]) };
  if (line === 'CONNECT') return { download: { trailer: '+QFDWL: ' } };
  return undefined;
}

/** A framer that collects its frames. */
function framer(options: FramerOptions = {}): { framer: AtFramer; frames: AtFrame[] } {
  const frames: AtFrame[] = [];
  return { framer: new AtFramer({ modeAfter, frame: (f) => frames.push(f) }, options), frames };
}

type Plain = { kind: string; text?: string; line?: string; hex?: string; trailer?: string; length?: number; what?: string };
const plain = (f: AtFrame): Plain => {
  switch (f.kind) {
    case 'line': return { kind: 'line', text: f.text };
    case 'prompt': return { kind: 'prompt' };
    case 'data': return { kind: 'data', line: f.line, hex: Buffer.from(f.bytes).toString('hex') };
    case 'download': return { kind: 'download', trailer: f.trailer, hex: Buffer.from(f.bytes).toString('hex') };
    case 'echo': return { kind: 'echo', length: f.length };
    case 'overflow': return { kind: 'overflow', what: f.what };
    case 'raw': return { kind: 'raw', hex: Buffer.from(f.bytes).toString('hex') };
    case 'marker': return { kind: 'marker', text: f.text };
  }
};

/** Runs `input` through a framer whole and in random chunks; every run must give the same frames. */
function expectFrames(input: Uint8Array, expected: Plain[], setup?: (f: AtFramer) => void, options?: FramerOptions): void {
  for (const { name, chunks } of [...splits(input), { name: '1-byte chunks', chunks: [...input].map((b) => Uint8Array.of(b)) }]) {
    const f = framer(options);
    setup?.(f.framer);
    for (const c of chunks) f.framer.push(c);
    expect(f.frames.map(plain), name).toEqual(expected);
    expect(f.framer.partial, name).toBe(false);
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

describe('download', () => {
  const trailerOf = (file: Uint8Array) => `+QFDWL: ${file.length},${formatChecksum(quectelChecksum(file))}`;
  const download = (file: Buffer, gap = '\r\n') =>
    Buffer.concat([latin1('\r\nCONNECT\r\n'), file, latin1(`${gap}${trailerOf(file)}\r\n\r\nOK\r\n`)]);

  test('the file ends at the trailer whose size and checksum match, not at trailer-like text inside it', () => {
    const sizeWrong = latin1('abc\r\n+QFDWL: 9,1\r\nxyz');
    // Text whose size field equals its own offset, so only the checksum tells it from the real trailer.
    const sizeRight = Buffer.concat([latin1('log line\r\n'), latin1('\r\n+QFDWL: 10,ffff\r\n'), latin1('rest\n')]);
    for (const file of [sizeWrong, sizeRight]) {
      expectFrames(download(file), [line('CONNECT'), { kind: 'download', trailer: trailerOf(file), hex: file.toString('hex') }, line('OK')]);
    }
  });
  test('a trailer with no CR LF before it (as QFUPL answers on BG96) also ends the file', () => {
    const file = latin1('-----END CERTIFICATE-----');
    expectFrames(download(file, ''), [line('CONNECT'), { kind: 'download', trailer: trailerOf(file), hex: file.toString('hex') }, line('OK')]);
  });
  test('a file ending in CR LF, and an empty file', () => {
    for (const file of [latin1('a\r\n'), latin1('')]) {
      expectFrames(download(file), [line('CONNECT'), { kind: 'download', trailer: trailerOf(file), hex: file.toString('hex') }, line('OK')]);
    }
  });
  test('a download past its bound is abandoned with an overflow frame', () => {
    const file = Buffer.alloc(100, 0x41);
    const frames = framer({ maxDownloadLength: 50 });
    frames.framer.push(download(file));
    expect(frames.frames.map(plain).slice(0, 2)).toEqual([line('CONNECT'), { kind: 'overflow', what: 'download' }]);
  });
});

describe('bounds', () => {
  test('a line past the bound is dropped up to its end, reported once, and the next line is read', () => {
    expectFrames(latin1(`\r\n${'x'.repeat(100)}\r\n\r\nOK\r\n`), [{ kind: 'overflow', what: 'line' }, line('OK')], undefined, { maxLineLength: 64 });
  });
  test('a line exactly at the bound is kept', () => {
    expectFrames(latin1(`\r\n${'y'.repeat(64)}\r\n`), [line('y'.repeat(64))], undefined, { maxLineLength: 64 });
  });
});

describe('payload echo', () => {
  const payload = latin1('-----BEGIN PRIVATE KEY-----\nMII\r\nOK\r\n');
  test('the module repeating the payload is consumed whole, the result after it is read', () => {
    const input = Buffer.concat([payload, latin1('\r\nSEND OK\r\n')]);
    expectFrames(input, [{ kind: 'echo', length: payload.length }, line('SEND OK')], (f) => f.expectEcho(payload));
  });
  test('after a prompt: its space first, then the echo', () => {
    const input = Buffer.concat([latin1('\r\n> '), payload, latin1('\r\nSEND OK\r\n')]);
    const { framer: f, frames } = framer();
    f.expectPrompt(true);
    for (const b of input) {
      f.push(Uint8Array.of(b));
      if (frames.length === 1 && frames[0]!.kind === 'prompt' && !('armed' in f)) {
        Object.defineProperty(f, 'armed', { value: true });
        f.expectEcho(payload);
      }
    }
    expect(frames.map(plain)).toEqual([{ kind: 'prompt' }, { kind: 'echo', length: payload.length }, line('SEND OK')]);
  });
  test('a whole match is an echo only if the line after it confirms it: `+` is not the echo of `+QFUPL:`', () => {
    const plus = latin1('+');
    const run = (input: Buffer) => {
      for (const { name, chunks } of splits(input)) {
        const frames: AtFrame[] = [];
        const f = new AtFramer({ modeAfter, frame: (x) => frames.push(x), confirmEcho: (l) => l.startsWith('+QFUPL:') || l === 'OK' });
        f.expectEcho(plus);
        for (const c of chunks) f.push(c);
        expect(frames.map(plain), name).toEqual(input[1] === 0x2b
          ? [{ kind: 'echo', length: 1 }, line('+QFUPL: 1,2b00'), line('OK')]
          : [line('+QFUPL: 1,2b00'), line('OK')]);
      }
    };
    run(latin1('+QFUPL: 1,2b00\r\n\r\nOK\r\n')); // no echo: the + is the result's own
    run(latin1('++QFUPL: 1,2b00\r\n\r\nOK\r\n')); // echo, then the result
  });
  test('no echo after all: bytes that matched the payload\'s start are read as lines again', () => {
    const p = latin1('\r\nSENT');
    expectFrames(latin1('\r\nSEND OK\r\n'), [line('SEND OK')], (f) => f.expectEcho(p));
  });
});

describe('raw (transparent data mode)', () => {
  /** A framer in raw mode after `CONNECT`, with the given plausibility; frames collected, the marker settled by hand. */
  function rawFramer(plausible: (l: string) => boolean = (l) => l.startsWith('+Q')) {
    const frames: AtFrame[] = [];
    const f = new AtFramer({
      modeAfter: (l) => (l === 'CONNECT' ? { raw: { markers: ['NO CARRIER', 'RDY'] } } : undefined),
      frame: (x) => frames.push(x),
      plausibleAfterMarker: plausible,
    });
    f.push(latin1('\r\nCONNECT\r\n'));
    return { f, frames };
  }
  /** The raw bytes delivered so far, joined. */
  const rawOf = (frames: AtFrame[]) => Buffer.concat(frames.flatMap((x) => (x.kind === 'raw' ? [x.bytes] : []))).toString('latin1');

  test('every byte after CONNECT is data, OK and ERROR and URC text included', () => {
    const data = '\r\nOK\r\nhello\r\nERROR\r\n+QSSLURC: "closed",0\r\n> \x00\xff';
    for (const { name, chunks } of splits(latin1(data))) {
      const { f, frames } = rawFramer();
      for (const c of chunks) f.push(c);
      f.releaseRaw();
      expect(frames[0], name).toEqual({ kind: 'line', text: 'CONNECT' });
      expect(rawOf(frames), name).toBe(data);
      expect(f.inRaw, name).toBe(true);
    }
  });

  test('NO CARRIER ends data mode once confirmed; URCs after it are lines; split anywhere', () => {
    const input = latin1('payload\r\n\r\nNO CARRIER\r\n\r\n+QIURC: "pdpdeact",1\r\n');
    for (const { name, chunks } of [...splits(input), { name: '1-byte', chunks: [...input].map((b) => Uint8Array.of(b)) }]) {
      const { f, frames } = rawFramer();
      for (const c of chunks) f.push(c);
      expect(frames.filter((x) => x.kind === 'marker'), name).toEqual([{ kind: 'marker', text: 'NO CARRIER' }]);
      f.confirmMarker();
      expect(rawOf(frames), name).toBe('payload\r\n');
      expect(frames.filter((x) => x.kind === 'line').map((x) => (x as { text: string }).text), name).toEqual(['CONNECT', '+QIURC: "pdpdeact",1']);
      expect(f.inRaw, name).toBe(false);
    }
  });

  test('NO CARRIER inside the data, followed by more data, is refuted at once and delivered as data', () => {
    const data = 'a\r\nNO CARRIER\r\nmore data\r\nand more';
    for (const { name, chunks } of splits(latin1(data))) {
      const { f, frames } = rawFramer();
      for (const c of chunks) f.push(c);
      f.releaseRaw();
      expect(rawOf(frames), name).toBe(data);
      expect(f.inRaw, name).toBe(true);
    }
  });

  test('the engine refutes a marker the line did not confirm: marker and what followed are data, searched again', () => {
    const { f, frames } = rawFramer();
    f.push(latin1('x\r\nRDY\r\n'));
    expect(frames.at(-1)).toEqual({ kind: 'marker', text: 'RDY' });
    f.refuteMarker();
    f.push(latin1('y\r\nNO CARRIER\r\n'));
    expect(frames.at(-1)).toEqual({ kind: 'marker', text: 'NO CARRIER' });
    f.confirmMarker();
    expect(rawOf(frames)).toBe('x\r\nRDY\r\ny');
  });

  test('the end of a read that may start a marker is held until more bytes or a release', () => {
    const { f, frames } = rawFramer();
    f.push(latin1('line\r\n'));
    expect(rawOf(frames)).toBe('line');
    expect(f.rawHeld).toBe(2);
    f.releaseRaw();
    expect(rawOf(frames)).toBe('line\r\n');
    f.push(latin1('\r\nNO'));
    expect(f.rawHeld).toBe(4);
    f.push(latin1('T'));
    expect(rawOf(frames)).toBe('line\r\n\r\nNOT');
  });

  test('markers can change in raw mode: OK counts only once armed', () => {
    const { f, frames } = rawFramer();
    f.push(latin1('\r\nOK\r\n'));
    f.releaseRaw();
    expect(rawOf(frames)).toBe('\r\nOK\r\n');
    f.setRawMarkers(['NO CARRIER', 'RDY', 'OK']);
    f.push(latin1('\r\nOK\r\n'));
    expect(frames.at(-1)).toEqual({ kind: 'marker', text: 'OK' });
  });
});
