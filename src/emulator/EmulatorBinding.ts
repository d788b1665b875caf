/**
 * A serialport binding in front of a {@link VirtualModule}, so that `new SerialPortStream({ binding, path })`
 * talks to the virtual module through the whole serialport stream stack, as it would to a device.
 *
 * It keeps the binding contract (node-stack.md): `read` resolves with at least one byte; on `close` a pending
 * read rejects with `canceled: true`; when the module's port is unplugged a pending read rejects without it, which
 * the stream reports as a disconnect.
 */
import type {
  BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import type { VirtualModule } from './VirtualModule.js';

interface PendingRead {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly length: number;
  resolve(r: { buffer: Buffer; bytesRead: number }): void;
  reject(e: Error): void;
}

/** Bytes a serial driver takes before a write waits for the line (a Linux tty's transmit buffer is 4 KiB). */
const DRIVER_BUFFER_BYTES = 4096;

const errorWith = (message: string, props: Record<string, unknown>): Error => Object.assign(new Error(message), props);

/** One open port on a virtual module. */
export class EmulatorPort implements BindingPortInterface {
  isOpen = true;
  private readonly queue: Buffer[] = [];
  private pending: PendingRead | undefined;
  private vanished = false;

  /** True once the module's port was unplugged under this open port. */
  get gone(): boolean {
    return this.vanished;
  }
  private baudRate: number;
  private readonly onOutput = (chunk: Buffer) => {
    this.queue.push(chunk);
    this.serve();
  };
  private readonly onUnplugged = (gone: boolean) => {
    if (!gone) return;
    // isOpen stays true: the stream only treats a failed read as a disconnect while the port counts as open.
    this.vanished = true;
    this.detach();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(errorWith('the port vanished (unplugged)', { disconnected: true }));
  };

  constructor(
    private readonly module: VirtualModule,
    readonly openOptions: Required<OpenOptions>,
    private readonly onClose: () => void,
  ) {
    this.baudRate = openOptions.baudRate;
    module.on('output', this.onOutput);
    module.on('unplugged', this.onUnplugged);
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (this.vanished) return Promise.reject(errorWith('the port vanished (unplugged)', { disconnected: true }));
    if (!this.isOpen) return Promise.reject(errorWith('Port is not open', { canceled: true }));
    if (this.pending) return Promise.reject(new Error('a read is already pending'));
    return new Promise((resolve, reject) => {
      this.pending = { buffer, offset, length, resolve, reject };
      this.serve();
    });
  }

  write(buffer: Buffer): Promise<void> {
    if (this.vanished) return Promise.reject(errorWith('the port vanished (unplugged)', { disconnected: true }));
    if (!this.isOpen) return Promise.reject(new Error('Port is not open'));
    this.module.write(Buffer.from(buffer));
    // A write completes once the bytes are in the UART driver's buffer, as a tty's does: past its size the writer
    // waits for the line. Unpaced, the line takes everything at once.
    return this.module.inputBelow(DRIVER_BUFFER_BYTES);
  }

  close(): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.isOpen = false;
    if (!this.vanished) this.detach();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(errorWith('Port closed', { canceled: true }));
    return Promise.resolve();
  }

  update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error('Port is not open'));
    this.baudRate = options.baudRate;
    return Promise.resolve();
  }

  set(_options: SetOptions): Promise<void> {
    return this.isOpen ? Promise.resolve() : Promise.reject(new Error('Port is not open'));
  }

  get(): Promise<PortStatus> {
    return Promise.resolve({ cts: true, dsr: true, dcd: false });
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return Promise.resolve({ baudRate: this.baudRate });
  }

  flush(): Promise<void> {
    this.queue.length = 0;
    return Promise.resolve();
  }

  /** Resolves once every byte written has crossed the line to the module (`tcdrain`). */
  drain(): Promise<void> {
    return this.module.inputBelow(0);
  }

  private serve(): void {
    const p = this.pending;
    if (!p || this.queue.length === 0) return;
    this.pending = undefined;
    let n = 0;
    while (n < p.length && this.queue.length > 0) {
      const head = this.queue[0]!;
      const take = Math.min(head.length, p.length - n);
      head.copy(p.buffer, p.offset + n, 0, take);
      n += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    p.resolve({ buffer: p.buffer, bytesRead: n });
  }

  private detach(): void {
    this.module.off('output', this.onOutput);
    this.module.off('unplugged', this.onUnplugged);
    this.onClose();
  }
}

/**
 * A serialport binding whose every path leads to `module`. Opening fails like a missing device while the module
 * is unplugged, and like a locked port while another port is open on it.
 */
export function createEmulatorBinding(module: VirtualModule): BindingInterface<EmulatorPort> {
  let open: EmulatorPort | undefined;
  return {
    list(): Promise<PortInfo[]> {
      return Promise.resolve(module.unplugged ? [] : [{
        path: `emulator:${module.profile.name}`, manufacturer: 'ussl-bridge virtual module', serialNumber: module.imei,
        pnpId: undefined, locationId: undefined, productId: undefined, vendorId: undefined,
      }]);
    },
    open(options: OpenOptions): Promise<EmulatorPort> {
      if (module.unplugged) {
        return Promise.reject(errorWith(`Error: No such file or directory, cannot open ${options.path}`, { code: 'ENOENT' }));
      }
      if (open?.isOpen && !open.gone) return Promise.reject(errorWith('Error Resource temporarily unavailable Cannot lock port', { code: 'EBUSY' }));
      const full: Required<OpenOptions> = {
        dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false,
        hupcl: true, ...options,
      };
      const port = new EmulatorPort(module, full, () => {
        if (open === port) open = undefined;
      });
      open = port;
      // A host opened the port: a module that was waiting for one powers on now, so its boot banner is seen.
      module.attach();
      return Promise.resolve(port);
    },
  };
}
