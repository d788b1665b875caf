/**
 * The virtual module's pending timers and sleeps, dropped together when its power goes: work started before a
 * reboot never resumes after it.
 */
export class ModuleTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms`. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Resolves after `ms`; never resolves if {@link clear} comes first. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** Cancels everything pending. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
