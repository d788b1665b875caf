/**
 * The time base of the emulator's serial line, finer than Node's timers.
 *
 * `setTimeout` counts whole milliseconds on the event loop's cached clock: measured on this project's 2-core test
 * machine, `setTimeout(fn, n)` ran between 0.9 ms early and 0.5 ms late (p99), and any wait under a millisecond
 * became a millisecond or more. A byte at 921600 baud takes 10.85 µs, so a line paced by timers alone delivered a
 * 4-byte send prompt after about 1.2 ms instead of 43 µs, and every command round trip paid that.
 * {@link precisionClock} uses a timer only for the part of a wait that is a millisecond or more away, then checks
 * the clock once per event-loop turn (`setImmediate`, about 5 µs apart when idle), and spins for the last tens of
 * microseconds, so a precise wake lands within a few microseconds of its time. Nothing runs while no wake is armed,
 * so an idle line costs no CPU.
 */

/** A clock the {@link Pacer} reads and sleeps on; tests pass a manual one. */
export interface LineClock {
  /** Milliseconds, not rounded (`performance.now()` for the real clock). */
  now(): number;
  /**
   * Calls `fn` once, never before `at` and never synchronously. `precise`: as soon after `at` as the event loop
   * allows (the line goes idle after this and a reader waits for it); otherwise up to a millisecond or two later
   * (more bytes follow, so lateness there changes nothing but the size of the next delivery).
   * @returns a function that cancels the call if it has not run yet
   */
  wakeAt(at: number, precise: boolean, fn: () => void): () => void;
}

/** Earliest a `setTimeout` was seen to fire before its time (0.9 ms, rounded up): a precise wait leaves it this much. */
const TIMER_EARLY_MS = 1;
/** A precise wait shorter than this is done by checking the clock every event-loop turn rather than with a timer. */
const POLL_WINDOW_MS = 2 * TIMER_EARLY_MS;
/** The last stretch of a precise wait, spun on the clock: shorter than one event-loop turn under load. */
const SPIN_MS = 0.2;

/**
 * Spins until `at`, and for no more than SPIN_MS of real time however `performance.now()` moves: a clock that stands
 * still (fake timers in a test) gets the event loop back instead of hanging it.
 */
function spinUntil(at: number): void {
  const limit = process.hrtime.bigint() + BigInt(Math.ceil(SPIN_MS * 1e6));
  while (performance.now() < at && process.hrtime.bigint() < limit) {
    // Only at the end of a precise wait, when a reader is waiting for these bytes.
  }
}

/** The real clock: `performance.now()`, timers for long waits, event-loop polling and a short spin for the rest. */
export const precisionClock: LineClock = {
  now: () => performance.now(),
  wakeAt(at, precise, fn) {
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let cancelled = false;
    const arm = (): void => {
      const left = at - performance.now();
      if (left > (precise ? POLL_WINDOW_MS : 0)) {
        timer = setTimeout(check, precise ? Math.floor(left - TIMER_EARLY_MS) : Math.ceil(left));
      } else {
        immediate = setImmediate(check);
      }
    };
    const check = (): void => {
      timer = undefined;
      immediate = undefined;
      if (cancelled) return;
      if (precise && at - performance.now() <= SPIN_MS) spinUntil(at);
      if (performance.now() >= at) fn();
      else arm();
    };
    arm();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    };
  },
};
