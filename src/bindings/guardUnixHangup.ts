/**
 * Works around a spin in `@serialport/bindings-cpp` on Linux and macOS (still in the 13.0.0 installed here):
 * its `unixRead` treats a zero-byte `read()` as "try again" and recurses at once (serialport/bindings-cpp#162).
 * A tty that hung up (USB adapter unplugged, socat killed) returns 0 from every read, so a read that was not
 * parked in the poller when the hang-up came loops forever, burning a core and eating memory until the process
 * dies. Measured on a socat pty: reads after the master closed return 0, writes fail with EIO; without this guard
 * test/transport/serialHangup.test.ts hangs in its first round.
 *
 * The guard replaces only `read` of a native unix port, with the same EAGAIN/poller logic, and turns end of file
 * into an error; `@serialport/stream` takes any non-canceled read error as a disconnect and closes the port.
 */
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import type { BindingInterface, BindingPortInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

const readAsync = promisify(fsRead);

/** The parts of bindings-cpp's `LinuxPortBinding` / `DarwinPortBinding` the guarded read needs. */
export interface UnixNativePort extends BindingPortInterface {
  /** The open file descriptor; `null` once closed. */
  readonly fd: number | null;
  /** libuv poller on `fd`; a pending wait fails with `canceled: true` when the port closes. */
  readonly poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
}

/** The error a guarded read fails with when the tty hung up; `disconnect` mirrors bindings-cpp's own flag. */
export interface HangupError extends Error {
  readonly code: 'EOF';
  readonly disconnect: true;
}

/** True when `port` has the shape of a native unix port (a numeric `fd` and a poller). */
export function isUnixNativePort(port: BindingPortInterface): port is UnixNativePort {
  const candidate = port as Partial<UnixNativePort>;
  return typeof candidate.fd === 'number' && typeof candidate.poller?.once === 'function';
}

/**
 * Wraps a binding so the ports it opens read through {@link guardedUnixRead} when they are native unix ports;
 * other ports (Windows, mocks, in-process bindings) are returned untouched.
 */
export function guardUnixHangup(binding: BindingInterface): BindingInterface {
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      if (isUnixNativePort(port)) {
        // An own property shadows the prototype's read; everything else (fd, poller, write…) stays the port's own.
        port.read = (buffer, offset, length) => guardedUnixRead(port, buffer, offset, length);
      }
      return port;
    },
  };
}

/**
 * Reads at least one byte from a native unix port, as bindings-cpp's `unixRead` does, but fails on end of file.
 * @throws HangupError when the tty hung up; an error with `canceled: true` when the port closed meanwhile;
 *   the `read()` error otherwise.
 */
export async function guardedUnixRead(
  port: UnixNativePort,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    const fd = port.fd;
    if (fd === null || !port.isOpen) throw canceledError();
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(fd, buffer, offset, length, null));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw e;
      if (!port.isOpen) throw canceledError();
      await new Promise<void>((resolve, reject) => {
        port.poller.once('readable', (error) => (error ? reject(error) : resolve()));
      });
      continue;
    }
    if (bytesRead === 0) throw hangupError();
    return { buffer, bytesRead };
  }
}

function canceledError(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

function hangupError(): HangupError {
  return Object.assign(new Error('the device hung up (read returned end of file)'), {
    code: 'EOF' as const,
    disconnect: true as const,
  });
}
