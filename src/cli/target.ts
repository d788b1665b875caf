/**
 * Where a command's module is, and how it is opened. With `--port URL` it is that port; without, a virtual module
 * of `--model` in this process, whose `hosts` table points `myssl.com` and `mtls.myssl.com` at the demo servers
 * (started here when the command needs them) and any `--host NAME=IP[:PORT]` at what it names. Every AT command goes
 * through one {@link AtMeter}: it counts them for the demo's steps and, with `--trace`, prints the library's
 * redacted trace to stderr.
 */
import { Option } from 'commander';
import type { AtClientOptions } from '../at/AtClient.js';
import type { AtTraceEvent } from '../at/AtEngine.js';
import { registerEmulatorScheme } from '../emulatorScheme.js';
import { MODELS, startDemoServers, type DemoServers, type ModelName } from '../emulator/index.js';
import type { ModemOptions, UrcPort } from '../modem/ModemOptions.js';
import type { ReceiveMode } from '../modem/services/Connection.js';
import { UsslModem } from '../ussl/UsslModem.js';
import { UsageError } from './exitCodes.js';

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
  /**
   * `--data-urc-port`: the AT interface URCs go to while transparent mode holds this port (the modem's `dataModeUrcPort`;
   * not its `urcPort`, which moves them for good).
   */
  readonly dataUrcPort?: UrcPort;
  /** `--at-port`: which AT interface this port is (the modem's `atPort`). */
  readonly atPort?: UrcPort;
}

/** The AT interfaces `AT+QURCCFG="urcport"` knows: a record, so that one added to the type fails here until offered. */
const AT_PORT_SET: Readonly<Record<UrcPort, true>> = { usbat: true, usbmodem: true, uart1: true };
/** The choices of `--data-urc-port` and `--at-port`. */
export const AT_PORTS = Object.keys(AT_PORT_SET) as readonly UrcPort[];
const RECEIVE_MODE_SET: Readonly<Record<ReceiveMode, true>> = { buffer: true, push: true, transparent: true };
/** The choices of `--receive`: access modes 0, 1 and 2. */
export const RECEIVE_MODES = Object.keys(RECEIVE_MODE_SET) as readonly ReceiveMode[];

/** `--receive <mode>` of the commands that open TLS connections (`get`, `demo`): the library's default unless given. */
export function receiveOption(): Option {
  return new Option('--receive <mode>', 'the module\'s access mode: buffer (read with AT+QSSLRECV), push (the data comes in the ' +
    'URC) or transparent (the line is the connection; on a port, with --data-urc-port)').choices(RECEIVE_MODES).default('buffer');
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
  /**
   * The module's wiring as the modem is told it: `--at-port` and `--data-urc-port`. A virtual module's is known: its AT
   * port is its model's host port, and URCs go to another interface while transparent mode holds that one.
   */
  readonly wiring: Pick<ModemOptions, 'atPort' | 'dataModeUrcPort'>;
  /** Stops what was started for the target (the demo servers). */
  close(): Promise<void>;
}

/**
 * The wiring the modem is told: `--at-port` and `--data-urc-port` as given for a port; for a virtual module its model's
 * host port and, for URCs, the first other interface, unless the options say otherwise.
 * @throws UsageError when URCs would be moved to the port itself.
 */
function wiringOf(g: GlobalOptions): Target['wiring'] {
  const atPort = g.atPort ?? (g.port === undefined ? MODELS[g.model].hostPort : undefined);
  const dataModeUrcPort = g.dataUrcPort ?? (g.port === undefined ? AT_PORTS.find((p) => p !== atPort) : undefined);
  if (dataModeUrcPort !== undefined && dataModeUrcPort === atPort) {
    const which = g.atPort !== undefined ? '--at-port' : `the virtual ${g.model}'s AT port`;
    throw new UsageError(`--data-urc-port ${dataModeUrcPort} is this port (${which}): name another interface for URCs to go to ` +
      `(${AT_PORTS.filter((p) => p !== atPort).join(', ')})`);
  }
  return { ...(atPort !== undefined ? { atPort } : {}), ...(dataModeUrcPort !== undefined ? { dataModeUrcPort } : {}) };
}

/**
 * Checks an access mode against the target before anything is opened: transparent mode on a port needs to know
 * where URCs go meanwhile (`--data-urc-port`, or `--at-port` when they go to another interface already).
 * @throws UsageError
 */
export function checkReceive(g: GlobalOptions, receive: ReceiveMode): void {
  wiringOf(g);
  if (receive !== 'transparent' || g.port === undefined || g.dataUrcPort !== undefined || g.atPort !== undefined) return;
  throw new UsageError('--receive transparent on a port needs --data-urc-port NAME: another AT interface ' +
    `(${AT_PORTS.join(', ')}) for URCs to go to while this port carries the connection's bytes, or --at-port NAME, ` +
    'the interface this port is, when URCs go elsewhere already; or use --receive push, nearly as fast');
}

/** Resolves the target of a command; `servers` starts the demo servers for a virtual module. */
export async function resolveTarget(g: GlobalOptions, options: { readonly servers?: boolean } = {}): Promise<Target> {
  const meter = new AtMeter(g.trace === true);
  if (g.port !== undefined) {
    return {
      url: g.port, label: g.port, virtual: false, servers: undefined, hosts: {}, meter,
      at: { trace: meter.trace, ...(g.baud !== undefined ? { baudRate: g.baud } : {}) }, wiring: wiringOf(g), close: async () => {},
    };
  }
  const wiring = wiringOf(g);
  const servers = options.servers === true ? await startDemoServers() : undefined;
  const hosts = { ...servers?.hosts, ...g.host };
  const params = [
    ...(Object.keys(hosts).length > 0 ? [`hosts=${Object.entries(hosts).map(([k, v]) => `${k}=${v}`).join(',')}`] : []),
    ...(g.baud !== undefined ? [`baud=${g.baud}`] : []),
  ];
  return {
    url: `emulator:${g.model}${params.length > 0 ? `?${params.join('&')}` : ''}`, label: `virtual ${g.model}`, virtual: true,
    servers, hosts, meter, at: { trace: meter.trace }, wiring, close: async () => servers?.close(),
  };
}

/** Brings the module up with the library's `Modem` (identify, SIM, registration, PDP). */
export function openModem(target: Target, g: GlobalOptions): Promise<UsslModem> {
  const options: ModemOptions = { at: target.at, ...target.wiring, ...(g.apn !== undefined ? { apn: { apn: g.apn } } : {}) };
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
