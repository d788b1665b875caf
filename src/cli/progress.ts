/**
 * A download's progress on stderr, drawn by `cli-progress` only when stderr is a terminal: a pipe or a log file
 * gets no carriage-return animation, and stdout (which may carry the body) is never touched.
 */
import { Presets, SingleBar } from 'cli-progress';
import { formatBytes } from './output.js';

/** What a download reports as it goes. */
export interface Progress {
  /** The bytes received so far. */
  update(received: number): void;
  stop(): void;
}

const NONE: Progress = { update: () => {}, stop: () => {} };

/**
 * A bar when `enabled` and stderr is a TTY, else nothing. With a known total it shows percent, size, rate and ETA;
 * without one (no `content-length`), bytes and rate.
 */
export function progressBar(total: number | undefined, enabled: boolean): Progress {
  if (!enabled || process.stderr.isTTY !== true) return NONE;
  const known = total !== undefined && total > 0;
  const bar = new SingleBar({
    stream: process.stderr,
    format: known ? ' {bar} {percentage}% | {done} of {size} | {rate} | ETA {eta_formatted}' : ' {done} | {rate}',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 64,
    fps: 10,
    // A TTY that is not a full terminal (a CI log viewer) still gets one line per update instead of garbage.
    noTTYOutput: false,
  }, Presets.shades_classic);
  const t0 = performance.now();
  const payload = (n: number) => {
    const s = (performance.now() - t0) / 1000;
    return { done: formatBytes(n), size: known ? formatBytes(total) : '', rate: `${formatBytes(s > 0 ? Math.round(n / s) : 0)}/s` };
  };
  bar.start(known ? total : 1, 0, payload(0));
  return {
    update: (n) => bar.update(known ? Math.min(n, total) : 0, payload(n)),
    stop: () => bar.stop(),
  };
}
