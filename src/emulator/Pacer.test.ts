import { describe, expect, test } from 'vitest';
import { precisionClock, type LineClock } from './LineClock.js';
import { Pacer, SLICE_MS } from './Pacer.js';

/** A clock the test moves by hand: wakes run only in {@link ManualClock.advanceTo}, in time order. */
class ManualClock implements LineClock {
  time = 0;
  private wakes: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.time;
  }

  wakeAt(at: number, _precise: boolean, fn: () => void): () => void {
    const wake = { at, fn, live: true };
    this.wakes.push(wake);
    return () => {
      wake.live = false;
    };
  }

  /** Wakes armed and not yet run or cancelled. */
  get armed(): number {
    return this.wakes.filter((w) => w.live).length;
  }

  /** Runs every wake due by `to` (including ones armed meanwhile), each at its own time, then sets the clock to `to`. */
  advanceTo(to: number): void {
    for (;;) {
      const live = this.wakes.filter((w) => w.live && w.at <= to);
      if (live.length === 0) break;
      const next = live.reduce((a, b) => (b.at < a.at ? b : a));
      next.live = false;
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.wakes = this.wakes.filter((w) => w.live);
    this.time = Math.max(this.time, to);
  }
}

interface Delivery {
  readonly at: number;
  readonly text: string;
}

function pacedLine(baud: number | undefined): { pacer: Pacer; clock: ManualClock; got: Delivery[] } {
  const clock = new ManualClock();
  const got: Delivery[] = [];
  const pacer = new Pacer((chunk) => got.push({ at: clock.now(), text: chunk.toString('latin1') }), { baud, clock });
  return { pacer, clock, got };
}

const text = (got: readonly Delivery[]): string => got.map((d) => d.text).join('');
/** 100000 baud: 0.1 ms per byte, so times in the tests are easy to read. */
const BAUD = 100_000;

describe('Pacer unpaced', () => {
  test('delivers what was pushed in one turn as one chunk, in order', () => {
    const { pacer, clock, got } = pacedLine(undefined);
    pacer.push(Buffer.from('ab'));
    pacer.push(Buffer.from('cd'));
    expect(got).toEqual([]); // never synchronously
    clock.advanceTo(0);
    expect(got).toEqual([{ at: 0, text: 'abcd' }]);
    expect(pacer.pending).toBe(0);
  });

  test('drip delivers one byte per wake, in order', () => {
    const { pacer, clock, got } = pacedLine(undefined);
    pacer.drip = true;
    pacer.push(Buffer.from('abc'));
    clock.advanceTo(0);
    expect(got.map((d) => d.text)).toEqual(['a', 'b', 'c']);
  });
});

describe('Pacer paced', () => {
  test('a burst on an idle line arrives whole when the line has sent its last byte, not before', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.from('OK\r\n'));
    clock.advanceTo(0.39);
    expect(got).toEqual([]);
    clock.advanceTo(1);
    expect(got).toEqual([{ at: 0.4, text: 'OK\r\n' }]);
  });

  test('bytes pushed while the line is busy follow back to back and arrive with the burst', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.from('abcde'));
    clock.advanceTo(0.2);
    pacer.push(Buffer.from('fghij'));
    clock.advanceTo(5);
    expect(got).toEqual([{ at: 1, text: 'abcdefghij' }]);
  });

  test('bytes pushed to an idle line start at once, not where an earlier burst would have led', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.from('ab'));
    clock.advanceTo(3);
    pacer.push(Buffer.from('cd'));
    clock.advanceTo(10);
    expect(got).toEqual([{ at: 0.2, text: 'ab' }, { at: 3.2, text: 'cd' }]);
  });

  test('a stream arrives in slices, every byte after the line sent it and the last one exactly on time', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => 65 + (i % 26)));
    for (let at = 0; at < data.length; at += 37) pacer.push(data.subarray(at, at + 37));
    clock.advanceTo(200);
    expect(text(got)).toBe(data.toString('latin1'));
    let sent = 0;
    for (const d of got) {
      sent += d.text.length;
      expect(sent).toBeLessThanOrEqual(Math.round(d.at / 0.1)); // no byte before the line finished it
      expect(d.text.length).toBeLessThanOrEqual(SLICE_MS / 0.1);
    }
    expect(got.at(-1)!.at).toBeCloseTo(100, 9);
  });

  test('drip delivers one byte per wake, each when the line finished it', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.drip = true;
    pacer.push(Buffer.from('abc'));
    clock.advanceTo(1);
    expect(got.map((d) => d.text)).toEqual(['a', 'b', 'c']);
    got.forEach((d, i) => expect(d.at).toBeCloseTo(0.1 * (i + 1), 9));
  });

  test('clear() drops what is queued, disarms the wake, and frees the line', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.alloc(100, 0x41));
    clock.advanceTo(1);
    pacer.clear();
    expect(pacer.pending).toBe(0);
    expect(clock.armed).toBe(0);
    clock.advanceTo(50);
    const before = got.length;
    pacer.push(Buffer.from('z'));
    clock.advanceTo(60);
    expect(got.slice(before)).toEqual([{ at: 50.1, text: 'z' }]);
  });

  test('setBaud delivers what the old speed finished at once and sends the rest at the new speed', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.from('abcdefghij'));
    clock.advanceTo(0.5);
    pacer.setBaud(BAUD / 2);
    clock.advanceTo(10);
    expect(text(got)).toBe('abcdefghij');
    expect(got[0]).toEqual({ at: 0.5, text: 'abcde' });
    expect(got.at(-1)!.at).toBeCloseTo(0.5 + 5 * 0.2, 9);
  });

  test('setBaud(undefined) releases queued bytes on the next wake; setBaud from unpaced paces what follows', () => {
    const { pacer, clock, got } = pacedLine(BAUD);
    pacer.push(Buffer.from('abcdefghij'));
    clock.advanceTo(0.3);
    pacer.setBaud(undefined);
    clock.advanceTo(0.3);
    expect(text(got)).toBe('abcdefghij');
    pacer.setBaud(BAUD);
    pacer.push(Buffer.from('xy'));
    clock.advanceTo(5);
    expect(got.at(-1)).toEqual({ at: 0.5, text: 'xy' });
  });
});

describe('precisionClock', () => {
  test('precise and coarse wakes never run before their time', async () => {
    const fired: string[] = [];
    const start = precisionClock.now();
    const early: string[] = [];
    await new Promise<void>((resolve) => {
      for (const [name, offset, precise] of [['coarse 4 ms', 4, false], ['precise 0.02 ms', 0.02, true], ['precise 3 ms', 3, true]] as const) {
        precisionClock.wakeAt(start + offset, precise, () => {
          if (precisionClock.now() < start + offset) early.push(name);
          fired.push(name);
          if (fired.length === 3) resolve();
        });
      }
    });
    expect(early).toEqual([]);
    // Not their order: a process paused past both times may run the coarse timer before the precise check.
    expect([...fired].sort()).toEqual(['coarse 4 ms', 'precise 0.02 ms', 'precise 3 ms']);
  });

  test('a cancelled wake never runs', async () => {
    let ran = false;
    const cancel = precisionClock.wakeAt(precisionClock.now() + 1, true, () => (ran = true));
    cancel();
    await new Promise<void>((resolve) => precisionClock.wakeAt(precisionClock.now() + 3, false, resolve));
    expect(ran).toBe(false);
  });

  test('a paced line on the real clock delivers every byte in order', async () => {
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => i & 0xff));
    const got: Buffer[] = [];
    let total = 0;
    await new Promise<void>((resolve) => {
      const pacer = new Pacer((chunk) => {
        got.push(chunk);
        total += chunk.length;
        if (total === data.length) resolve();
      }, { baud: 921_600 });
      for (let at = 0; at < data.length; at += 1000) pacer.push(data.subarray(at, at + 1000));
    });
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });
});
