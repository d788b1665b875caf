/**
 * Where a command's module is, and how it is opened. With `--port URL` it is that port; without, a virtual module
 * of `--model` in this process, whose `hosts` table points `myssl.com` and `mtls.myssl.com` at the demo servers
 * (started here when the command needs them) and any `--host NAME=IP[:PORT]` at what it names. Every AT command goes
 * through one {@link AtMeter}: it counts them for the demo's steps and, with `--trace`, prints the library's
 * redacted trace to stderr.
 */
import type { AtClientOptions } from '../at/AtClient.js';
import type { AtTraceEvent } from '../at/AtEngine.js';
import { registerEmulatorScheme } from '../emulatorScheme.js';
import { startDemoServers, type DemoServers, type ModelName } from '../emulator/index.js';
import type { ModemOptions } from '../modem/ModemOptions.js';
import { UsslModem } from '../ussl/UsslModem.js';

registerEmulatorScheme();

/** The options every command takes (on the program, read with `optsWithGlobals()`). */
export interface GlobalOptions {
  /** The module's port: a device path or URL. Default: a virtual module. */
  readonly port?: string;
  readonly baud?: number;
  readonly apn?: string;
  readonly trace?: boolean;
  readonly json?: boolean;
  /** The virtual module's model when there is no `--port`. */
  readonly model: ModelName;
  /** More names for the virtual module to resolve. */
  readonly host?: Readonly<Record<string, string>>;
}

/** Counts the AT commands written and, when asked, prints each trace event to stderr. */
export class AtMeter {
  private readonly sent: string[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly print: boolean) {}

  /** The hook for `at: { trace }`. */
  readonly trace = (e: AtTraceEvent): void => {
    if (e.dir === 'out' && e.kind === 'command') this.sent.push(e.text ?? '');
    if (this.print) process.stderr.write(`${traceLine(this.t0, e)}\n`);
  };

  /** How many commands have been written so far: a mark for {@link since}. */
  get count(): number {
    return this.sent.length;
  }

  /** The command lines written since `mark` (secrets already redacted by the engine). */
  since(mark: number): readonly string[] {
    return this.sent.slice(mark);
  }
}

/** `  12.3 ms → AT+QSSLOPEN=…`; payloads and data as sizes (the engine gives no bytes unless asked). */
export function traceLine(t0: number, e: AtTraceEvent): string {
  const ms = `${(e.at - t0).toFixed(1).padStart(8)} ms`;
  const arrow = e.dir === 'out' ? '→' : '←';
  if (e.kind === 'payload') return `${ms} ${arrow} [${e.length} bytes]`;
  if (e.kind === 'data') return `${ms} ${arrow} ${e.text ? `${e.text} ` : ''}[${e.length} bytes]`;
  return `${ms} ${arrow} ${e.text ?? ''}`;
}

/** A module to open: its URL, how to name it to a person, and what was started for it. */
export interface Target {
  readonly url: string;
  /** `virtual EC25` or the port URL. */
  readonly label: string;
  readonly virtual: boolean;
  /** The demo servers, when the command asked for them and the module is virtual. */
  readonly servers: DemoServers | undefined;
  /** What the virtual module resolves, name → `ip:port`. Empty for a real module. */
  readonly hosts: Readonly<Record<string, string>>;
  readonly meter: AtMeter;
  /** AT client options: the meter's trace and, for a serial port, `--baud`. */
  readonly at: AtClientOptions;
  /** Stops what was started for the target (the demo servers). */
  close(): Promise<void>;
}

/** Resolves the target of a command; `servers` starts the demo servers for a virtual module. */
export async function resolveTarget(g: GlobalOptions, options: { readonly servers?: boolean } = {}): Promise<Target> {
  const meter = new AtMeter(g.trace === true);
  if (g.port !== undefined) {
    return {
      url: g.port, label: g.port, virtual: false, servers: undefined, hosts: {}, meter,
      at: { trace: meter.trace, ...(g.baud !== undefined ? { baudRate: g.baud } : {}) }, close: async () => {},
    };
  }
  const servers = options.servers === true ? await startDemoServers() : undefined;
  const hosts = { ...servers?.hosts, ...g.host };
  const params = [
    ...(Object.keys(hosts).length > 0 ? [`hosts=${Object.entries(hosts).map(([k, v]) => `${k}=${v}`).join(',')}`] : []),
    ...(g.baud !== undefined ? [`baud=${g.baud}`] : []),
  ];
  return {
    url: `emulator:${g.model}${params.length > 0 ? `?${params.join('&')}` : ''}`, label: `virtual ${g.model}`, virtual: true,
    servers, hosts, meter, at: { trace: meter.trace }, close: async () => servers?.close(),
  };
}

/** Brings the module up with the library's `Modem` (identify, SIM, registration, PDP). */
export function openModem(target: Target, g: GlobalOptions): Promise<UsslModem> {
  const options: ModemOptions = { at: target.at, ...(g.apn !== undefined ? { apn: { apn: g.apn } } : {}) };
  return UsslModem.open(target.url, options);
}

/** Runs `work` with the module up, then closes the module and the target whatever happened. */
export async function withModem<T>(g: GlobalOptions, options: { readonly servers?: boolean },
  work: (modem: UsslModem, target: Target) => Promise<T>): Promise<T> {
  const target = await resolveTarget(g, options);
  try {
    const modem = await openModem(target, g);
    try {
      return await work(modem, target);
    } finally {
      await modem.close();
    }
  } finally {
    await target.close();
  }
}
