/**
 * The virtual module's pending timers and sleeps, dropped together when its power goes: work started before a
 * reboot never resumes after it.
 */
import { precisionClock } from './LineClock.js';

export class ModuleTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakes = new Set<() => void>();

  /** Runs `fn` after `ms` on a plain timer (boot steps, power-down: whole milliseconds are fine there). */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /**
   * Resolves after `ms` on the line's clock rather than a millisecond timer, so a latency profile's 10 ms is 10 ms, as
   * exact as the line's bytes; never resolves if {@link clear} comes first.
   */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = precisionClock.wakeAt(precisionClock.now() + ms, true, () => {
        this.wakes.delete(cancel);
        resolve();
      });
      this.wakes.add(cancel);
    });
  }

  /** Cancels everything pending. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const cancel of this.wakes) cancel();
    this.wakes.clear();
  }
}
