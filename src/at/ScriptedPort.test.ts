import { afterEach, describe, expect, test, vi } from 'vitest';
import { isQuectelError, QuectelError } from '../errors.js';
import type { TransportCloseEvent } from '../transport/Transport.js';
import { ScriptedPort, type ScriptedPortOptions, type ScriptStep } from './ScriptedPort.js';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

/** Records the port's data events; `until(text)` resolves once the received bytes contain `text`. */
function collect(port: ScriptedPort) {
  const chunks: Uint8Array[] = [];
  let waiting: { text: string; resolve: () => void } | undefined;
  const text = (): string => chunks.map(latin1).join('');
  port.on('data', (chunk) => {
    chunks.push(chunk);
    if (waiting && text().includes(waiting.text)) waiting.resolve();
  });
  return {
    chunks,
    text,
    until: (wanted: string): Promise<void> =>
      text().includes(wanted) ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { text: wanted, resolve })),
  };
}

async function rejection(promise: Promise<unknown>): Promise<QuectelError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof QuectelError)) throw new Error(`expected a QuectelError, got ${String(error)}`);
  return error;
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const BOOT: ScriptStep[] = [
  { emit: '\r\nRDY\r\n' },
  { expect: 'ATE0\r', reply: 'ATE0\r\r\nOK\r\n' },
  { expect: /^AT\+QSSLOPEN=1,0,"h",443,0$/, reply: ['\r\nOK\r\n', '\r\n+QSSLOPEN: 0,0\r\n\r\n+QIURC: "pdpdeact",1\r\n'] },
];
const BOOT_REPLIES = '\r\nRDY\r\nATE0\r\r\nOK\r\n\r\nOK\r\n\r\n+QSSLOPEN: 0,0\r\n\r\n+QIURC: "pdpdeact",1\r\n';

async function runBoot(options: ScriptedPortOptions): Promise<Uint8Array[]> {
  const port = new ScriptedPort(BOOT, options);
  const rx = collect(port);
  await rx.until('RDY\r\n');
  await port.write(bytes('ATE0\r'));
  await rx.until('OK\r\n');
  await port.write(bytes('AT+QSSLOPEN=1,0,"h",443,0\r'));
  await port.done();
  expect(rx.text()).toBe(BOOT_REPLIES);
  expect(latin1(port.written)).toBe('ATE0\rAT+QSSLOPEN=1,0,"h",443,0\r');
  expect(port.remaining()).toEqual([]);
  return rx.chunks;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ScriptedPort plays a script', () => {
  test('delivers every reply byte whole, byte by byte and in random cuts, with a different number of events', async () => {
    const whole = await runBoot({ chunking: 'whole' });
    const single = await runBoot({ chunking: 'bytes' });
    const random = await runBoot({ chunking: { min: 2, max: 5, seed: 7 } });
    expect(whole.length).toBe(4); // one event per bytes part
    expect(single.length).toBe(BOOT_REPLIES.length);
    expect(random.length).toBeGreaterThan(BOOT_REPLIES.length / 5 - 1);
    expect(random.length).toBeLessThan(BOOT_REPLIES.length / 2 + 4);
    expect(new Set([whole.length, single.length, random.length]).size).toBe(3);
    for (const chunk of random) expect(chunk.length).toBeLessThanOrEqual(5);
  });

  test('hands out fresh, non-empty Uint8Array chunks that own their buffer', async () => {
    const chunks = await runBoot({ chunking: { min: 1, max: 3 } });
    for (const chunk of chunks) {
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk.byteOffset).toBe(0);
      expect(chunk.buffer.byteLength).toBe(chunk.length);
    }
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(chunks.length);
  });

  test('cuts the same way for the same seed and differently for another seed', async () => {
    const reply = 'x'.repeat(300);
    const sizes = async (seed: number): Promise<number[]> => {
      const port = new ScriptedPort([{ emit: reply }], { chunking: { min: 1, max: 9, seed } });
      const rx = collect(port);
      await port.done();
      expect(rx.text()).toBe(reply);
      return rx.chunks.map((chunk) => chunk.length);
    };
    const first = await sizes(42);
    expect(await sizes(42)).toEqual(first);
    expect(await sizes(43)).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(3);
  });

  test('starts when the first data listener is attached, and never sends inside write()', async () => {
    const port = new ScriptedPort([{ emit: 'RDY\r\n' }, { expect: 'AT\r', reply: 'OK\r\n' }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(port.remaining()).toEqual(['emit "RDY\\r\\n"', 'expect "AT\\r"']);
    const rx = collect(port);
    await rx.until('RDY\r\n');
    const written = port.write(bytes('AT\r'));
    expect(rx.text()).toBe('RDY\r\n');
    await written;
    await port.done();
    expect(rx.text()).toBe('RDY\r\nOK\r\n');
  });

  test('plays emit-only scripts and labels steps in remaining()', async () => {
    const port = new ScriptedPort([
      { emit: '\r\n+QIURC: "recv",0\r\n', label: 'recv URC' },
      { emit: ['\r\n+QSSLURC: "closed",0\r\n', '\r\nRDY\r\n'] },
    ]);
    expect(port.remaining()).toEqual(['recv URC', 'emit "\\r\\n+QSSLURC: \\"closed\\",0\\r\\n"']);
    const rx = collect(port);
    await port.done();
    expect(rx.text()).toBe('\r\n+QIURC: "recv",0\r\n\r\n+QSSLURC: "closed",0\r\n\r\nRDY\r\n');
  });

  test('matches a RegExp against a whole CR-ended line written in several pieces', async () => {
    const port = new ScriptedPort([{ expect: /^AT\+QSSLSEND=1,(\d+)$/, reply: '\r\n> ' }]);
    const rx = collect(port);
    await port.write(bytes('AT+QSS'));
    await port.write(bytes('LSEND=1,'));
    await flush();
    expect(rx.text()).toBe('');
    await port.write(bytes('5\r'));
    await port.done();
    expect(rx.text()).toBe('\r\n> ');
  });

  test('matches binary expects with 0x00, 0x1a and 0xff, split across writes', async () => {
    const payload = new Uint8Array([0x00, 0x1a, 0xff, 0x0d, 0x0a, 0x41]);
    const port = new ScriptedPort([
      { expect: 'AT+QSSLSEND=1,6\r', reply: '\r\n> ' },
      { expect: payload, reply: '\r\nSEND OK\r\n' },
    ]);
    const rx = collect(port);
    await port.write(bytes('AT+QSSLSEND=1,6\r'));
    await rx.until('> ');
    await port.write(payload.subarray(0, 2));
    await port.write(payload.subarray(2));
    await port.done();
    expect(rx.text()).toBe('\r\n> \r\nSEND OK\r\n');
  });

  test('holds a command written while emits are still playing for the expect after them', async () => {
    const port = new ScriptedPort([{ expect: 'AT\r', reply: 'OK\r\n' }, { emit: 'URC\r\n' }, { expect: 'AT+X\r', reply: 'DONE\r\n' }]);
    const rx = collect(port);
    await port.write(bytes('AT\rAT+X\r'));
    await port.done();
    expect(rx.text()).toBe('OK\r\nURC\r\nDONE\r\n');
  });

  test('appends steps with push() while running', async () => {
    const port = new ScriptedPort([]);
    const rx = collect(port);
    await port.done();
    port.push({ expect: 'AT+CSQ\r', reply: '\r\n+CSQ: 20,99\r\n\r\nOK\r\n' }, { emit: 'RDY\r\n' });
    expect(port.remaining()).toEqual(['expect "AT+CSQ\\r"', 'emit "RDY\\r\\n"']);
    await port.write(bytes('AT+CSQ\r'));
    await port.done();
    expect(rx.text()).toBe('\r\n+CSQ: 20,99\r\n\r\nOK\r\nRDY\r\n');
    await port.close();
    expect(() => port.push({ emit: 'x' })).toThrow(/closed/);
  });
});

describe('ScriptedPort fails the script on unexpected host bytes', () => {
  test('names the expected and the actual bytes, escaped, and rejects this and every later write', async () => {
    const port = new ScriptedPort([{ expect: 'ATE0\r', reply: 'OK\r\n', label: 'echo off' }, { emit: 'never\r\n' }]);
    const rx = collect(port);
    const error = await rejection(port.write(bytes('ATE1\r')));
    expect(error.code).toBe('SCRIPT_MISMATCH');
    expect(error.message).toBe('host wrote "ATE1\\r" where step 1 (echo off) expected "ATE0\\r"');
    expect(error.context).toEqual({ url: 'scripted:', step: 1, label: 'echo off' });
    expect(await rejection(port.done())).toBe(error);
    expect(await rejection(port.write(bytes('ATE0\r')))).toBe(error);
    await flush();
    expect(rx.chunks).toEqual([]);
    expect(port.remaining()).toEqual(['echo off', 'emit "never\\r\\n"']);
  });

  test('fails at the first divergent byte, before the line is complete', async () => {
    const port = new ScriptedPort([{ expect: 'AT+QSSLCLOSE=1,10\r' }]);
    await port.write(bytes('AT+QSSL'));
    const error = await rejection(port.write(bytes('OPEN')));
    expect(isQuectelError(error, 'SCRIPT_MISMATCH')).toBe(true);
    expect(error.message).toContain('host wrote "AT+QSSLOPEN" where step 1 expected "AT+QSSLCLOSE=1,10\\r"');
  });

  test('shows control and high bytes as \\xHH and names the RegExp a line failed', async () => {
    const binary = new ScriptedPort([{ expect: new Uint8Array([0x00, 0x1a, 0xff]) }]);
    const error = await rejection(binary.write(new Uint8Array([0x00, 0x1b])));
    expect(error.message).toContain('host wrote "\\x00\\x1b" where step 1 expected "\\x00\\x1a\\xff"');

    const line = new ScriptedPort([{ expect: /^AT\+QSSLOPEN=/ }]);
    await line.write(bytes('AT+QSSLCLOSE=1'));
    const lineError = await rejection(line.write(bytes('\r')));
    expect(lineError.message).toContain('host wrote "AT+QSSLCLOSE=1\\r" where step 1 expected a line matching /^AT\\+QSSLOPEN=/');
  });

  test('rejects host bytes when the script expects no command', async () => {
    const done = new ScriptedPort([{ expect: 'AT\r', reply: 'OK\r\n' }]);
    const error = await rejection(done.write(bytes('AT\rAT\r')));
    expect(error.code).toBe('SCRIPT_MISMATCH');
    expect(error.message).toContain('host wrote "AT\\r" but no command is expected: the script has no steps left');

    const emitOnly = new ScriptedPort([{ emit: 'RDY\r\n' }]);
    expect((await rejection(emitOnly.write(bytes('AT\r')))).message).toContain('the next step is emit "RDY\\r\\n"');
  });

  test('done() rejects with SCRIPT_INCOMPLETE listing the steps left after its timeout or a close', async () => {
    const port = new ScriptedPort([{ expect: 'AT\r', label: 'probe' }, { emit: 'x' }]);
    const timedOut = await rejection(port.done(20));
    expect(timedOut.code).toBe('SCRIPT_INCOMPLETE');
    expect(timedOut.message).toBe('not finished after 20 ms with 2 step(s) left: probe; emit "x"');
    const pending = port.done(Infinity);
    await port.close();
    expect((await rejection(pending)).message).toContain('the port closed with 2 step(s) left');
  });

  test('refuses script strings that are not latin1 and nonsense options', () => {
    expect(() => new ScriptedPort([{ emit: 'caf\u20ac' }])).toThrow(/latin1/);
    expect(() => new ScriptedPort([], { chunking: { min: 0, max: 3 } })).toThrow(/min/);
    expect(() => new ScriptedPort([{ emit: [{ close: 'error' }, 'x'] }])).toThrow(/last part/);
    expect(() => new ScriptedPort([{ delayMs: -1 }])).toThrow(/delayMs/);
  });
});

describe('ScriptedPort timing and link loss', () => {
  test('plays delays on timers that fake timers drive', async () => {
    vi.useFakeTimers();
    const port = new ScriptedPort([
      { expect: /^AT\+QSSLOPEN=/, reply: ['\r\nOK\r\n', { delayMs: 100 }, '\r\n+QSSLOPEN: 0,0\r\n'] },
      { delayMs: 50 },
      { emit: 'late\r\n' },
    ]);
    const rx = collect(port);
    await port.write(bytes('AT+QSSLOPEN=1,0,"h",443,0\r'));
    await flush();
    expect(rx.text()).toBe('\r\nOK\r\n');
    await vi.advanceTimersByTimeAsync(99);
    expect(rx.text()).toBe('\r\nOK\r\n');
    await vi.advanceTimersByTimeAsync(1);
    expect(rx.text()).toBe('\r\nOK\r\n\r\n+QSSLOPEN: 0,0\r\n');
    await vi.advanceTimersByTimeAsync(49);
    expect(rx.text()).not.toContain('late');
    await vi.advanceTimersByTimeAsync(1);
    await port.done();
    expect(rx.text()).toBe('\r\nOK\r\n\r\n+QSSLOPEN: 0,0\r\nlate\r\n');
  });

  test('a close part disconnects: close event once, writes reject TRANSPORT_CLOSED, the script is complete', async () => {
    const port = new ScriptedPort([{ expect: 'AT+QPOWD=1\r', reply: ['\r\nOK\r\n', { close: 'disconnected' }] }]);
    const closes: TransportCloseEvent[] = [];
    port.on('close', (event) => closes.push(event));
    const rx = collect(port);
    await port.write(bytes('AT+QPOWD=1\r'));
    await port.done();
    expect(rx.text()).toBe('\r\nOK\r\n');
    expect(closes).toEqual([{ reason: 'disconnected' }]);
    expect(port.isOpen).toBe(false);
    expect((await rejection(port.write(bytes('AT\r')))).code).toBe('TRANSPORT_CLOSED');
    await port.close();
    expect(closes).toHaveLength(1);
  });

  test('a close error part reports the failure, and steps after it leave the script incomplete', async () => {
    const port = new ScriptedPort([{ emit: ['\r\nRD', { close: 'error' }] }, { emit: 'Y\r\n', label: 'rest of RDY' }]);
    const closed = new Promise<TransportCloseEvent>((resolve) => port.once('close', resolve));
    const rx = collect(port);
    const event = await closed;
    expect(event.reason).toBe('error');
    expect(event.error?.message).toContain('scripted link failure');
    expect(rx.text()).toBe('\r\nRD');
    const error = await rejection(port.done());
    expect(error.code).toBe('SCRIPT_INCOMPLETE');
    expect(error.message).toContain('rest of RDY');
  });

  test('close() by the host emits close "closed" and stops the script', async () => {
    vi.useFakeTimers();
    const port = new ScriptedPort([{ emit: ['a', { delayMs: 10 }, 'b'] }]);
    const rx = collect(port);
    await flush();
    const closes: TransportCloseEvent[] = [];
    port.on('close', (event) => closes.push(event));
    await port.close();
    await vi.advanceTimersByTimeAsync(20);
    expect(rx.text()).toBe('a');
    expect(closes).toEqual([{ reason: 'closed' }]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
