/**
 * A {@link Transport} over a serial port, through `@serialport/stream` and any serialport binding: the native
 * one for real devices and ptys, `MockBinding` or an in-process binding in tests.
 */
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { QuectelError } from '../errors.js';
import { guardUnixHangup } from '../bindings/guardUnixHangup.js';
import { guardUnixPoller } from '../bindings/guardUnixPoller.js';
import { assertBaudRate } from './parseTransportUrl.js';
import { closedError, LinkTransport } from './LinkTransport.js';
import type { Transport } from './Transport.js';

/** How to open a {@link SerialPortTransport}. */
export interface SerialPortTransportOptions {
  /** Device path: `/dev/ttyUSB2`, `COM5`, a pty or a symlink to one. */
  readonly path: string;
  /** Line speed. Default: 115200. */
  readonly baudRate?: number;
  /** Hardware (RTS/CTS) flow control. Default: false. */
  readonly rtscts?: boolean;
  /**
   * The serialport binding; an in-process binding (an emulator) plugs in here.
   * Default: the native binding `serialport`'s `SerialPort` uses, loaded on first use.
   */
  readonly binding?: BindingInterface;
  /** The URL reported as {@link Transport.url}. Default: `path`. */
  readonly url?: string;
}

/** Line speed when neither the URL nor the caller names one; the factory default of most Quectel modules. */
export const DEFAULT_BAUD_RATE = 115_200;

/** The flags serialport and its bindings put on their errors. */
interface SerialErrorFields {
  readonly disconnected?: boolean;
  readonly disconnect?: boolean;
  readonly canceled?: boolean;
  readonly code?: string;
}

/**
 * A serial port as a {@link Transport}. Open it with {@link SerialPortTransport.open}.
 *
 * Modem lines are left as the OS sets them on open (DTR and RTS raised); the transport never calls the
 * binding's `set()` or `get()`, which fail on a pty ("Inappropriate ioctl for device").
 */
export class SerialPortTransport extends LinkTransport implements Transport {
  private readonly stream: SerialPortStream;
  private endOfStream = false;
  private lastError: Error | undefined;

  private constructor(stream: SerialPortStream, url: string) {
    super(url);
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      // The stream hands out views into a shared 64 KiB read pool; each would pin the pool and expose its
      // neighbours through `.buffer`. Give listeners bytes of their own.
      if (chunk.length > 0) this.emit('data', Uint8Array.prototype.slice.call(chunk));
    });
    // A binding read that resolves with 0 bytes means end of stream: the device is gone, but serialport only
    // ends the readable side and keeps the port open. Close it so the close event reports the disconnect.
    stream.on('end', () => this.onEndOfStream());
    // Without a listener, a late stream error would crash the process; the close event reports it instead.
    stream.on('error', (error: Error) => {
      this.lastError = error;
    });
    stream.on('close', (error?: Error | null) => this.onStreamClose(error ?? undefined));
  }

  /**
   * Opens a serial port.
   * @throws QuectelError `TRANSPORT_NOT_FOUND` when the device does not exist, `TRANSPORT_BUSY` when another
   *   process (or another open in this one) holds it, `TRANSPORT_BAD_OPTION` for a baud rate out of range or
   *   refused by the port, `TRANSPORT_OPEN_FAILED` otherwise (permissions, a binding failure).
   */
  static async open(options: SerialPortTransportOptions): Promise<SerialPortTransport> {
    const { path } = options;
    const url = options.url ?? path;
    const baudRate = assertBaudRate(options.baudRate ?? DEFAULT_BAUD_RATE);
    // Both guards touch native unix ports only: one ends the spin on a hung-up tty, the other keeps a parked read
    // and a parked write both polled (bindings-cpp polls only the latest; see src/bindings/guardUnixPoller.ts).
    const binding = guardUnixPoller(guardUnixHangup(options.binding ?? (await nativeBinding())));
    let stream: SerialPortStream;
    try {
      stream = new SerialPortStream({ binding, path, baudRate, rtscts: options.rtscts ?? false, autoOpen: false });
    } catch (e) {
      // The constructor validates only path and baudRate type.
      throw new QuectelError('TRANSPORT_BAD_OPTION', `cannot open ${url}: ${errorMessage(e)}`, { url, path }, { cause: e });
    }
    await new Promise<void>((resolve, reject) => {
      stream.open((error) => (error ? reject(mapOpenError(error, url, path, baudRate)) : resolve()));
    });
    return new SerialPortTransport(stream, url);
  }

  /** True from open until `close()` is called or the port goes away. */
  get isOpen(): boolean {
    return !this.finished && !this.closeRequested && !this.endOfStream && this.stream.isOpen && !this.stream.destroyed;
  }

  /**
   * Writes bytes; resolves once the binding took them (for the native binding: handed to the OS driver), in
   * call order. The bytes are copied, so the caller may reuse `data` at once.
   * @throws QuectelError `TRANSPORT_CLOSED` when the port is closed or closes before the bytes went out,
   *   `TRANSPORT_WRITE_FAILED` when the binding fails the write and the port stays open.
   */
  write(data: Uint8Array): Promise<void> {
    // serialport parks writes made while the port is shut until it reopens, which for us is never: settle them at close.
    return this.trackedWrite(data, (bytes, done) => this.stream.write(bytes, done),
      (error) => this.isClosing() || (error as SerialErrorFields).canceled === true);
  }

  /**
   * Resolves once the bytes written so far left the port (`tcdrain`): a guard time counted from here is silence on
   * the line, not in the host's buffers.
   * @throws QuectelError `TRANSPORT_CLOSED` when the port is closed, `TRANSPORT_WRITE_FAILED` when draining fails.
   */
  async drain(): Promise<void> {
    if (!this.isOpen) throw closedError(this.url);
    await new Promise<void>((resolve, reject) => {
      this.stream.drain((error) => (error && this.isOpen ? reject(drainError(this.url, error)) : resolve()));
    });
    if (!this.isOpen) throw closedError(this.url);
  }

  /**
   * Waits until written bytes left the port (`tcdrain`), then changes the line speed of the open port.
   * @throws QuectelError `TRANSPORT_BAD_OPTION` for a rate out of range or refused by the port,
   *   `TRANSPORT_CLOSED` when the port is closed.
   */
  async setBaudRate(baudRate: number): Promise<void> {
    assertBaudRate(baudRate);
    if (!this.isOpen) throw closedError(this.url);
    // Bytes still in the UART would go out at the new speed, garbled.
    await this.drain();
    await new Promise<void>((resolve, reject) => {
      this.stream.update({ baudRate }, (error) => {
        if (!error) resolve();
        else if (!this.isOpen) reject(closedError(this.url, error));
        else {
          const context = { url: this.url, option: 'baud', value: baudRate };
          reject(new QuectelError('TRANSPORT_BAD_OPTION', `${this.url} refused baud rate ${baudRate}: ${error.message}`, context, { cause: error }));
        }
      });
    });
  }

  protected tearDown(): void {
    this.closeStream();
  }

  private closeStream(): void {
    if (this.stream.isOpen) {
      this.stream.close((error) => {
        // Success calls back with the disconnect error or null, after the stream's own 'close' settled us.
        if (error && (error as SerialErrorFields).disconnected !== true) this.finish('error', error);
      });
    } else if (!this.stream.closing) {
      this.finish(this.closeRequested ? 'closed' : 'disconnected', this.lastError);
    }
    // Otherwise a disconnect is already closing the port; its close event settles this.
  }

  private onEndOfStream(): void {
    if (this.finished || this.closeRequested) return;
    this.endOfStream = true;
    this.closeStream();
  }

  private onStreamClose(error: Error | undefined): void {
    if ((error as SerialErrorFields | undefined)?.disconnected === true) {
      this.finish('disconnected', error);
    } else if (this.stream.closing) {
      // A failed write destroys the Duplex, whose bare 'close' comes before the port's own close: wait for that one,
      // so close() resolves only once the binding released the device.
    } else if (this.endOfStream) {
      // The device went away before any close() of ours.
      this.finish('disconnected');
    } else if (this.closeRequested) {
      this.finish('closed');
    } else if (this.lastError !== undefined && !isDisconnectError(this.lastError)) {
      this.finish('error', this.lastError);
    } else {
      this.finish('disconnected', this.lastError);
    }
  }

  private isClosing(): boolean {
    return this.finished || this.closeRequested || this.endOfStream || this.stream.closing || !this.stream.isOpen;
  }

}

let nativeBindingPromise: Promise<BindingInterface> | undefined;

/** Loads `serialport` (and its native addon) only when a real port is opened, so in-process bindings never need it. */
function nativeBinding(): Promise<BindingInterface> {
  nativeBindingPromise ??= import('serialport').then(({ SerialPort }) => SerialPort.binding);
  return nativeBindingPromise;
}

function drainError(url: string, error: Error): QuectelError {
  return new QuectelError('TRANSPORT_WRITE_FAILED', `draining ${url} failed: ${error.message}`, { url }, { cause: error });
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isDisconnectError(error: Error): boolean {
  const fields = error as SerialErrorFields;
  return fields.disconnected === true || fields.disconnect === true || ['EIO', 'ENXIO', 'EBADF', 'ENODEV'].includes(fields.code ?? '');
}

/**
 * Sorts a binding's open failure. The native binding gives plain `Error`s whose only clue is the message
 * (Linux: "Error: No such file or directory, cannot open …", "Error Resource temporarily unavailable Cannot
 * lock port"; Windows: "Opening COM5: File not found" / "…: Access denied"), so the message is matched.
 */
function mapOpenError(error: Error, url: string, path: string, baudRate: number): QuectelError {
  const text = `${(error as SerialErrorFields).code ?? ''} ${error.message}`;
  const context = { url, path };
  if (/ENOENT|No such file or directory|File not found|cannot find the file/i.test(text)) {
    return new QuectelError('TRANSPORT_NOT_FOUND', `serial device ${path} does not exist`, context, { cause: error });
  }
  // Windows reports a port held by another program as "Access denied".
  if (/Cannot lock port|EBUSY|Resource busy|Access denied/i.test(text)) {
    return new QuectelError('TRANSPORT_BUSY', `serial device ${path} is in use (by another program, or opened twice)`, context, { cause: error });
  }
  if (/baud/i.test(text)) {
    const badBaud = { ...context, option: 'baud', value: baudRate };
    return new QuectelError('TRANSPORT_BAD_OPTION', `serial device ${path} refused baud rate ${baudRate}: ${error.message}`, badBaud, { cause: error });
  }
  const hint = /EACCES|Permission denied/i.test(text) ? ' (on Linux, is the user in the dialout group?)' : '';
  return new QuectelError('TRANSPORT_OPEN_FAILED', `cannot open serial device ${path}: ${error.message}${hint}`, context, { cause: error });
}
