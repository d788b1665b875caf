/**
 * The module's side of the `+++` escape on a clock the test moves: only three `+` framed by a guard time of silence
 * on both sides leave data mode; every other `+` is data, delivered in order and whole.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { EscapeDetector } from './EscapeDetector.js';

const GUARD = 1000;
let clock = 0;
beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
});
afterEach(() => vi.useRealTimers());

/** A detector whose clock is `clock`; what it forwards and whether it escaped. */
function detector(): { readonly d: EscapeDetector; readonly data: () => string; readonly escaped: () => number } {
  const out: Buffer[] = [];
  let escaped = 0;
  const d = new EscapeDetector(GUARD, (b) => out.push(Buffer.from(b)), () => escaped++, () => clock);
  return { d, data: () => Buffer.concat(out).toString('latin1'), escaped: () => escaped };
}

/** Moves the test clock and the timers together. */
function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

const feed = (d: EscapeDetector, text: string) => d.feed(Buffer.from(text, 'latin1'));

test('silence, +++, silence: the escape, and the + bytes are not data', () => {
  const t = detector();
  feed(t.d, 'abc');
  advance(GUARD);
  feed(t.d, '+++');
  advance(GUARD - 1);
  expect(t.escaped()).toBe(0);
  advance(1);
  expect(t.escaped()).toBe(1);
  expect(t.data()).toBe('abc');
});

test('the three + may come one at a time within the guard time', () => {
  const t = detector();
  advance(GUARD);
  feed(t.d, '+');
  advance(300);
  feed(t.d, '+');
  advance(300);
  feed(t.d, '+');
  advance(GUARD);
  expect(t.escaped()).toBe(1);
  expect(t.data()).toBe('');
});

test('too little silence before: data', () => {
  const t = detector();
  feed(t.d, 'x');
  advance(GUARD - 1);
  feed(t.d, '+++');
  advance(2 * GUARD);
  expect(t.escaped()).toBe(0);
  expect(t.data()).toBe('x+++');
});

test('anything within the guard time after: data, in order', () => {
  const t = detector();
  advance(GUARD);
  feed(t.d, '+++');
  advance(GUARD - 1);
  feed(t.d, 'y');
  advance(2 * GUARD);
  expect(t.escaped()).toBe(0);
  expect(t.data()).toBe('+++y');
});

test('the three + spread over more than the guard time: data', () => {
  const t = detector();
  advance(GUARD);
  feed(t.d, '+');
  advance(600);
  feed(t.d, '+');
  advance(600);
  feed(t.d, '+');
  advance(3 * GUARD);
  expect(t.escaped()).toBe(0);
  expect(t.data()).toBe('+++');
});

test('four + after silence: data', () => {
  const t = detector();
  advance(GUARD);
  feed(t.d, '++++');
  advance(3 * GUARD);
  expect(t.escaped()).toBe(0);
  expect(t.data()).toBe('++++');
});

test('a lone + after silence is data once its guard time passed; so is the next one after more silence', () => {
  const t = detector();
  advance(GUARD);
  feed(t.d, '+');
  advance(GUARD + 1);
  expect(t.data()).toBe('+');
  feed(t.d, '+');
  advance(GUARD + 1);
  feed(t.d, '+');
  advance(3 * GUARD);
  expect(t.escaped()).toBe(0);
  expect(t.data()).toBe('+++');
});

test('property: data written without guard times, whatever holds +++, never escapes and arrives whole', () => {
  // Every piece is written: an empty one would be silence, and two gaps around it could add up to a guard time.
  const piece = fc.oneof(fc.constant('+++'), fc.constant('+'), fc.constant('++++'), fc.string({ minLength: 1, maxLength: 20 }));
  fc.assert(fc.property(fc.array(fc.record({ text: piece, gap: fc.integer({ min: 0, max: GUARD - 1 }) }), { maxLength: 30 }), (pieces) => {
    clock = 0;
    const t = detector();
    let sent = '';
    for (const p of pieces) {
      feed(t.d, p.text);
      sent += p.text;
      advance(p.gap);
    }
    advance(3 * GUARD);
    return t.escaped() === 0 && t.data() === sent;
  }), { numRuns: 300 });
});
