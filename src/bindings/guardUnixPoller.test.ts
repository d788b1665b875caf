import { EVENTS, Poller } from '@serialport/bindings-cpp/dist/poller.js';
import { describe, expect, test } from 'vitest';
import { FakeBinding, FakePort } from '../../test/transport/FakeBinding.js';
import { guardUnixPoller, isPollerLike, widenPollInterest } from './guardUnixPoller.js';

/**
 * The C++ half of bindings-cpp's poller as src/poller.cpp writes it, so the real JS `Poller` can run on it: a
 * request adds to the remembered union but starts the handle with the requested events alone; libuv reports the
 * part of a readiness the handle polls for; the callback re-polls the remembered union minus what fired.
 */
class NativePollerModel {
  static last: NativePollerModel | undefined;
  private remembered = 0;
  private polling = 0;

  constructor(_fd: number, private readonly callback: (error: Error | null, events: number) => void) {
    NativePollerModel.last = this;
  }

  poll(events: number): void {
    this.remembered |= events;
    this.polling = events;
  }

  stop(): void {
    this.polling = 0;
  }

  destroy(): void {}

  /** The fd became ready for `events`. */
  ready(events: number): void {
    const fired = events & this.polling;
    if (fired === 0) return;
    this.poll(this.remembered & ~fired);
    this.callback(null, fired);
  }
}

function pollerOnModel(): { poller: Poller; native: NativePollerModel } {
  const poller = new Poller(7, NativePollerModel as unknown as ConstructorParameters<typeof Poller>[1]);
  return { poller, native: NativePollerModel.last! };
}

/** Parks a read and a write the way unix-read.js and unix-write.js do after EAGAIN, in the given order. */
function park(poller: Poller, order: readonly ('readable' | 'writable')[]): Record<'readable' | 'writable', boolean> {
  const woke = { readable: false, writable: false };
  for (const event of order) poller.once(event, () => (woke[event] = true));
  return woke;
}

describe('bindings-cpp poller on a model of its C++ side', () => {
  test('without the guard, a read parked before a write is never woken by incoming bytes', () => {
    const { poller, native } = pollerOnModel();
    const woke = park(poller, ['readable', 'writable']);
    native.ready(EVENTS.UV_READABLE);
    expect(woke).toEqual({ readable: false, writable: false });
  });

  test('with the guard, a read parked before a write wakes on incoming bytes and the write still waits', () => {
    const { poller, native } = pollerOnModel();
    widenPollInterest(poller);
    const woke = park(poller, ['readable', 'writable']);
    native.ready(EVENTS.UV_READABLE);
    expect(woke).toEqual({ readable: true, writable: false });
    native.ready(EVENTS.UV_WRITABLE);
    expect(woke).toEqual({ readable: true, writable: true });
  });

  test('with the guard, a write parked before a read wakes when the fd drains', () => {
    const { poller, native } = pollerOnModel();
    widenPollInterest(poller);
    const woke = park(poller, ['writable', 'readable']);
    native.ready(EVENTS.UV_WRITABLE);
    expect(woke).toEqual({ readable: false, writable: true });
    native.ready(EVENTS.UV_READABLE);
    expect(woke).toEqual({ readable: true, writable: true });
  });

  test('widening twice wraps once', () => {
    const { poller } = pollerOnModel();
    widenPollInterest(poller);
    const once = poller.poll;
    widenPollInterest(poller);
    expect(poller.poll).toBe(once);
  });
});

describe('guardUnixPoller', () => {
  test('leaves ports of other bindings untouched', async () => {
    const port = await guardUnixPoller(new FakeBinding()).open({ path: '/dev/x', baudRate: 9600 });
    expect(port).toBeInstanceOf(FakePort);
    expect(isPollerLike((port as FakePort & { poller?: unknown }).poller)).toBe(false);
  });

  test('widens the poller of a native-looking port', async () => {
    const binding = new FakeBinding();
    const { poller, native } = pollerOnModel();
    const guarded = guardUnixPoller({
      list: () => binding.list(),
      open: async (options) => Object.assign(await binding.open(options), { fd: 7, poller }),
    });
    await guarded.open({ path: '/dev/x', baudRate: 9600 });
    const woke = park(poller, ['readable', 'writable']);
    native.ready(EVENTS.UV_READABLE);
    expect(woke.readable).toBe(true);
  });
});
