import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FakeBinding, FakePort } from '../../test/transport/FakeBinding.js';
import { startSocatPair, type SocatPair } from '../../test/helpers/socatPair.js';
import { within } from '../../test/helpers/transportContract.js';
import { guardedUnixRead, guardUnixHangup, isUnixNativePort, type UnixNativePort } from './guardUnixHangup.js';

/** A stand-in for bindings-cpp's poller: the test decides when the fd is "readable". */
class ManualPoller {
  private waiters: ((error: Error | null) => void)[] = [];
  once(_event: 'readable', callback: (error: Error | null) => void): this {
    this.waiters.push(callback);
    return this;
  }
  get waiting(): number {
    return this.waiters.length;
  }
  fire(error: Error | null = null): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(error);
  }
}

/** A native-looking port over a real fd, with every other method a FakePort's. */
function portOnFd(fd: number, poller: ManualPoller): UnixNativePort & { fd: number | null } {
  return Object.assign(new FakePort({ path: '/dev/pts/x', baudRate: 115200 }), { fd, poller });
}

describe('guardUnixHangup', () => {
  test('recognises native unix ports by their fd and poller only', () => {
    expect(isUnixNativePort(portOnFd(3, new ManualPoller()))).toBe(true);
    expect(isUnixNativePort(new FakePort({ path: '/dev/x', baudRate: 9600 }))).toBe(false);
  });

  test('leaves ports of other bindings untouched', async () => {
    const guarded = guardUnixHangup(new FakeBinding());
    const port = await guarded.open({ path: '/dev/x', baudRate: 9600 });
    expect(port).toBeInstanceOf(FakePort);
    expect(port.read).toBe(FakePort.prototype.read);
  });

  test('gives native-looking ports the guarded read', async () => {
    const binding = new FakeBinding();
    const guarded = guardUnixHangup({
      list: () => binding.list(),
      open: async (options) => Object.assign(await binding.open(options), { fd: 99, poller: new ManualPoller() }),
    });
    const port = await guarded.open({ path: '/dev/x', baudRate: 9600 });
    expect(port.read).not.toBe(FakePort.prototype.read);
  });
});

describe('guardedUnixRead on a real pty', () => {
  let socat: SocatPair;
  let fdA: number;
  let fdB: number;

  beforeEach(async () => {
    socat = await startSocatPair();
    const flags = constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY;
    fdA = openSync(socat.pathA, flags);
    fdB = openSync(socat.pathB, flags);
  });
  afterEach(async () => {
    closeSync(fdA);
    closeSync(fdB);
    await socat.close();
  });

  test('waits on the poller while the pty is empty, then reads what arrived', async () => {
    const poller = new ManualPoller();
    const buffer = Buffer.alloc(64);
    const reading = guardedUnixRead(portOnFd(fdA, poller), buffer, 8, 32);
    await until(() => poller.waiting === 1);
    writeSync(fdB, 'OK\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    poller.fire();
    const { bytesRead } = await within(reading, 2000, 'the read');
    expect(buffer.subarray(8, 8 + bytesRead).toString()).toBe('OK\r\n');
  });

  test('fails with a disconnect once the pty hung up, where bindings-cpp would spin', async () => {
    await socat.close(); // reads on the hung-up pty now return 0 forever
    const error = await within(
      guardedUnixRead(portOnFd(fdA, new ManualPoller()), Buffer.alloc(16), 0, 16).then(() => undefined, (e: unknown) => e),
      2000,
      'the read to fail',
    );
    expect(error).toMatchObject({ code: 'EOF', disconnect: true });
  });

  test('fails as canceled when the port closes while it waits', async () => {
    const poller = new ManualPoller();
    const port = portOnFd(fdA, poller);
    const reading = guardedUnixRead(port, Buffer.alloc(16), 0, 16).then(() => undefined, (e: unknown) => e);
    await until(() => poller.waiting === 1);
    port.isOpen = false;
    poller.fire(Object.assign(new Error('Canceled'), { canceled: true }));
    expect(await reading).toMatchObject({ canceled: true });
  });

  test('fails as canceled on a port already closed', async () => {
    const port = portOnFd(fdA, new ManualPoller());
    port.fd = null;
    expect(await guardedUnixRead(port, Buffer.alloc(16), 0, 16).then(() => undefined, (e: unknown) => e)).toMatchObject({ canceled: true });
  });
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
