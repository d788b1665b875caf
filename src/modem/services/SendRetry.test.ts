import { expect, test } from 'vitest';
import { checkSendRetryPolicy, SendRetry } from './SendRetry.js';

/** A SendRetry on a clock the test moves. */
function at(policy: ConstructorParameters<typeof SendRetry>[0]) {
  let now = 0;
  const retry = new SendRetry(policy, () => now);
  return { retry, advance: (ms: number) => (now += ms) };
}

test('backoff: each chunk waits 20, 40, 80 … ms up to the cap after its refusals, and the next is sent at once', () => {
  const { retry } = at({ kind: 'backoff', firstMs: 20, maxMs: 100 });
  expect([0, 1, 2, 3, 4].map((a) => retry.refused(a))).toEqual([20, 40, 80, 100, 100]);
  retry.taken(5);
  expect(retry.beforeSend()).toBe(0);
  expect(retry.refused(0)).toBe(20);
});

test('paced: the gap doubles with each refusal and is kept, counted from the last SEND OK', () => {
  const { retry, advance } = at({ kind: 'paced', firstMs: 20, maxMs: 1000 });
  expect(retry.beforeSend()).toBe(0);
  expect([0, 1, 2].map((a) => retry.refused(a))).toEqual([20, 40, 80]);
  retry.taken(3);
  expect(retry.beforeSend()).toBe(80);
  advance(30);
  expect(retry.beforeSend()).toBe(50);
  advance(100);
  expect(retry.beforeSend()).toBe(0);
  // Refused again: it goes on from the gap it had.
  expect(retry.refused(0)).toBe(160);
  expect(Array.from({ length: 5 }, (_, a) => retry.refused(a + 1)).at(-1)).toBe(1000);
});

test('paced: chunks taken at the first try shorten the gap by a fifth until it ends', () => {
  const { retry } = at({ kind: 'paced', firstMs: 20, maxMs: 1000 });
  retry.refused(0);
  retry.refused(1);
  retry.taken(2); // 40 ms
  const gaps: number[] = [];
  for (let i = 0; i < 5; i++) {
    retry.taken(0);
    gaps.push(Math.round(retry.beforeSend()));
  }
  expect(gaps).toEqual([32, 26, 20, 16, 13]);
  retry.taken(0); // 10.5 ms: not yet below half of the first wait
  retry.taken(0); // 8.4 ms: below it, over
  expect(retry.beforeSend()).toBe(0);
});

test('paced: a connection idle for eight gaps forgets the gap (the buffer drained meanwhile): a burst goes at once', () => {
  const { retry, advance } = at({ kind: 'paced', firstMs: 20, maxMs: 1000 });
  [0, 1, 2].forEach((a) => retry.refused(a)); // 80 ms
  retry.taken(3);
  advance(8 * 80 - 1);
  expect(retry.beforeSend()).toBe(0);
  expect(retry.refused(0)).toBe(160); // not yet forgotten: it goes on from the gap it had
  retry.taken(1);
  advance(8 * 160);
  expect(retry.beforeSend()).toBe(0);
  retry.taken(0);
  expect(retry.beforeSend()).toBe(0); // forgotten: the next chunk does not wait either
  expect(retry.refused(0)).toBe(20); // and a refusal starts from the first wait again
});

test.each([
  [{ firstMs: 0 }], [{ firstMs: Number.NaN }], [{ firstMs: -1 }], [{ maxMs: Number.POSITIVE_INFINITY }], [{ firstMs: 50, maxMs: 10 }],
  [{ kind: 'fast' as unknown as 'paced' }], [{ firstMs: '20' as unknown as number }],
])('a policy that would not wait, or not say how, is refused before use: %j', (policy) => {
  expect(() => checkSendRetryPolicy(policy)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
});

test('the default and sensible policies are accepted', () => {
  for (const p of [undefined, {}, { kind: 'backoff' as const }, { firstMs: 1, maxMs: 8 }, { firstMs: 60_000 }]) expect(() => checkSendRetryPolicy(p)).not.toThrow();
});
