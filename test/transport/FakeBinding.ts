/**
 * A scripted serialport binding for unit tests: the test feeds reads, ends or fails them, and inspects what was
 * written. Unlike `MockBinding` it can end a read with 0 bytes and fail any call on demand.
 */
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, UpdateOptions } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

interface PendingRead {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly length: number;
  readonly resolve: (result: { buffer: Buffer; bytesRead: number }) => void;
  readonly reject: (error: Error) => void;
}

/** A binding whose ports are {@link FakePort}s. */
export class FakeBinding implements BindingInterface<FakePort> {
  /** The options of every open() call, failed or not. */
  readonly opened: OpenOptions[] = [];
  readonly ports: FakePort[] = [];
  /** When set, open() rejects with it. Default: undefined. */
  openError: Error | undefined;

  async list(): Promise<PortInfo[]> {
    return [];
  }

  async open(options: OpenOptions): Promise<FakePort> {
    this.opened.push(options);
    if (this.openError !== undefined) throw this.openError;
    const port = new FakePort(options);
    this.ports.push(port);
    return port;
  }

  /** The port opened last. */
  get port(): FakePort {
    const port = this.ports.at(-1);
    if (port === undefined) throw new Error('no port opened');
    return port;
  }
}

/** One open fake port. */
export class FakePort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  /** What write() received, by reference: a caller that reuses its buffer would show up here. */
  readonly writes: Buffer[] = [];
  readonly baudRates: number[] = [];
  readonly calls: string[] = [];
  /** When set, write() rejects with it. Default: undefined. */
  writeError: Error | undefined;
  /** When set, update() rejects with it. Default: undefined. */
  updateError: Error | undefined;
  private readonly queued: Buffer[] = [];
  private pending: PendingRead | undefined;
  private ended = false;

  constructor(options: OpenOptions) {
    this.openOptions = {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    };
  }

  /** Hands bytes to the reader. */
  feed(bytes: Uint8Array): void {
    this.queued.push(Buffer.from(bytes));
    this.serve();
  }

  /** Ends the stream: the next read resolves with 0 bytes, as a binding reports end of file. */
  end(): void {
    this.ended = true;
    this.serve();
  }

  /** Fails the pending (or next) read with `error`. */
  failRead(error: Error): void {
    const pending = this.pending;
    if (pending === undefined) throw new Error('no read pending');
    this.pending = undefined;
    pending.reject(error);
  }

  /** All bytes written so far, as they are now. */
  written(): Buffer {
    return Buffer.concat(this.writes);
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return new Promise((resolve, reject) => {
      this.pending = { buffer, offset, length, resolve, reject };
      this.serve();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    this.calls.push('write');
    if (this.writeError !== undefined) throw this.writeError;
    this.writes.push(buffer);
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.isOpen = false;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(Object.assign(new Error('Port is closed'), { canceled: true }));
  }

  async update(options: UpdateOptions): Promise<void> {
    this.calls.push('update');
    if (this.updateError !== undefined) throw this.updateError;
    this.baudRates.push(options.baudRate);
  }

  async set(): Promise<void> {
    throw new Error('Error: Inappropriate ioctl for device, cannot set');
  }

  async get(): Promise<PortStatus> {
    throw new Error('Error: Inappropriate ioctl for device, cannot get');
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    return { baudRate: this.baudRates.at(-1) ?? this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    this.queued.length = 0;
  }

  async drain(): Promise<void> {
    this.calls.push('drain');
  }

  private serve(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const next = this.queued[0];
    if (next !== undefined) {
      const count = next.copy(pending.buffer, pending.offset, 0, pending.length);
      if (count === next.length) this.queued.shift();
      else this.queued[0] = next.subarray(count);
      this.pending = undefined;
      pending.resolve({ buffer: pending.buffer, bytesRead: count });
    } else if (this.ended) {
      this.pending = undefined;
      pending.resolve({ buffer: pending.buffer, bytesRead: 0 });
    }
  }
}
