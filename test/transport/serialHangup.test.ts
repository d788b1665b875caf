// A pty that hangs up while bytes are streaming in: the native binding's read is then mostly busy rather than
// parked in its poller, which is when bindings-cpp 13 would spin on the zero-byte reads of the dead tty.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { expect, test } from 'vitest';
import { SerialPortTransport } from '../../src/transport/SerialPortTransport.js';
import type { TransportCloseEvent } from '../../src/transport/Transport.js';
import { startSocatPair } from '../helpers/socatPair.js';
import { within } from '../helpers/transportContract.js';

/** Writes to `fd` as fast as the pty takes bytes until the write fails (the pty hung up) or `stop()`. */
function flood(fd: number): { stop(): void; finished: Promise<void> } {
  const block = Buffer.alloc(4096, 0x55);
  let stopped = false;
  const finished = new Promise<void>((resolve) => {
    const pump = (): void => {
      for (;;) {
        if (stopped) return resolve();
        try {
          writeSync(fd, block);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return void setImmediate(pump);
          return resolve(); // EIO: socat is gone
        }
      }
    };
    pump();
  });
  return { stop: () => (stopped = true), finished };
}

test('a hang-up in the middle of a burst reports "disconnected" rather than spinning, every time', async () => {
  for (let round = 0; round < 8; round++) {
    const socat = await startSocatPair();
    const transport = await SerialPortTransport.open({ path: socat.pathA });
    const events: TransportCloseEvent[] = [];
    transport.on('close', (event) => events.push(event));
    let received = 0;
    transport.on('data', (chunk) => (received += chunk.byteLength));
    const fdB = openSync(socat.pathB, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
    const writer = flood(fdB);
    try {
      await within(until(() => received > 256 * 1024), 5000, 'bytes to stream in');
      await socat.close();
      await within(until(() => events.length > 0), 5000, `the close event in round ${round}`);
      expect(events).toEqual([{ reason: 'disconnected' }]);
      expect(transport.isOpen).toBe(false);
    } finally {
      writer.stop();
      await writer.finished;
      closeSync(fdB);
      await transport.close();
      await socat.close();
    }
  }
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}
