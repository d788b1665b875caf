/**
 * Works around a lost wake-up in `@serialport/bindings-cpp` on Linux and macOS (13.0.0 installed here, and its
 * source on GitHub as of this writing). A native unix port has one libuv poll handle for its fd, shared by the read
 * that waits for "readable" and the write that waits for "writable". The JS `Poller` asks the C++ side for each
 * event as it is needed, and `Poller::poll` (src/poller.cpp) remembers the union of everything ever asked in
 * `this->events` but restarts the handle with `uv_poll_start(handle, events, …)`: the event just asked for, alone.
 * So when a read parks while a write is parked (or the other way round), the earlier waiter is no longer polled,
 * and it stays asleep until some other event on the fd happens to restart the poll.
 *
 * Full duplex over a socat pty pair shows it: the peer's write waited for "writable", its next read replaced that
 * interest with "readable", and the far end had already sent everything, so nothing restarted the poll; the bytes
 * in the write stayed put and the transport contract test "carries 1 MiB each way at the same time" timed out
 * (a copy of that test stalled in 5 rounds of 30 beside four CPU burners, in none with this guard on both ends; a
 * stall needs the pty buffers full, which load makes likely). On a module the same shape is an `AT+QFUPL` in ack mode: the module's `A` is read, the read
 * that follows silences the parked upload write, and the module waits for bytes the host never sends
 * (inferred from the mechanism, not seen on hardware).
 *
 * The guard makes every request carry the events that still have a waiter, which is what the C++ side meant to
 * poll; the callback path there already re-polls with the remembered union, so nothing else changes.
 */
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { isUnixNativePort } from './guardUnixHangup.js';

/** libuv's poll event bits, as bindings-cpp's JS `Poller` passes them (dist/poller.js `EVENTS`). */
const POLL_EVENTS: Readonly<Record<'readable' | 'writable' | 'disconnect', number>> = {
  readable: 0b001,
  writable: 0b010,
  disconnect: 0b100,
};

/** The parts of bindings-cpp's JS `Poller` (an EventEmitter over the native handle) the guard relies on. */
export interface PollerLike {
  /** Asks the native handle to poll for `eventFlag`; `once(event, …)` calls it before adding its listener. */
  poll(eventFlag?: number): void;
  listenerCount(event: string): number;
}

const widened = new WeakSet<PollerLike>();

/** True when `value` has the shape of bindings-cpp's JS `Poller`. */
export function isPollerLike(value: unknown): value is PollerLike {
  const candidate = value as Partial<PollerLike> | null | undefined;
  return typeof candidate?.poll === 'function' && typeof candidate.listenerCount === 'function';
}

/**
 * Makes `poller` ask for the events that still have a waiter along with the one requested, so a parked read and a
 * parked write are both polled. Applying it twice is harmless.
 */
export function widenPollInterest(poller: PollerLike): void {
  if (widened.has(poller)) return;
  widened.add(poller);
  const ask = poller.poll.bind(poller);
  // An own property shadows the prototype's poll; `once` calls `this.poll`, so every request goes through here.
  poller.poll = (eventFlag = 0) => ask(eventFlag | waitingEvents(poller));
}

/** The events some listener is still waiting for. */
function waitingEvents(poller: PollerLike): number {
  let events = 0;
  for (const [event, bit] of Object.entries(POLL_EVENTS)) {
    if (poller.listenerCount(event) > 0) events |= bit;
  }
  return events;
}

/**
 * Wraps a binding so the native unix ports it opens have their poller widened (see {@link widenPollInterest});
 * other ports (Windows, mocks, in-process bindings) are returned untouched.
 */
export function guardUnixPoller(binding: BindingInterface): BindingInterface {
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      if (isUnixNativePort(port) && isPollerLike(port.poller)) widenPollInterest(port.poller);
      return port;
    },
  };
}
