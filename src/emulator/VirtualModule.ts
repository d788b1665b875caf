/**
 * A virtual Quectel module: the AT dialect of one model, byte for byte as quectel-at.md describes it, with real
 * TCP and TLS behind the socket commands. The host side is a byte pipe (`write` in, `'output'` events out);
 * {@link createEmulatorBinding} puts a serialport binding in front of it.
 *
 *   host bytes ──▶ pacer ──▶ line / payload input ──▶ command queue ──▶ handler ──▶ response ──▶ pacer ──▶ host
 *                                                                       │  URCs held while a command runs ──┘
 *                                                                       └─▶ node:net / node:tls
 */
import { EventEmitter } from 'node:events';
import { EscapeDetector } from './EscapeDetector.js';
import type { NetConnection } from './network/NetConnection.js';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { QuectelError } from '../errors.js';
import { commandTable } from './commands/index.js';
import { createEmulatorBinding, type EmulatorPort } from './EmulatorBinding.js';
import { FaultState } from './faults.js';
import { resolveLatency, type LatencyProfileName } from './latencyProfiles.js';
import {
  freshModuleState, type AtPortName, type CommandTable, type BootTiming, type LatencyProfile, type ModuleCore, type ModuleState,
  type PayloadRequest, type PayloadResult, type ResolvedTarget, type ResponseWriter, type SendPath,
} from './ModuleCore.js';
import type { ModuleTraceEvent, VirtualModuleEvents } from './moduleEvents.js';
import { ModuleResponse } from './ModuleResponse.js';
import { ModuleTimers } from './ModuleTimers.js';
import { MODEL_NAMES, MODELS, type ModelName, type ModelProfile } from './models.js';
import { Pacer } from './Pacer.js';
import { dispatchCommand } from './dispatchCommand.js';
import { PayloadCollector } from './PayloadCollector.js';
import { UartReceiver } from './UartReceiver.js';
import { UfsStore } from './UfsStore.js';

/** Options of {@link VirtualModule}. */
export interface VirtualModuleOptions {
  /** The model to behave as. Default: `'BG96'`. */
  readonly model?: ModelName;
  /** Name → `ip` or `ip:port` overrides, consulted before the system resolver: `{ 'myssl.com': '127.0.0.1:8443' }`. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** UART speed: bytes flow no faster than baud/10 per second in each direction. Default: unpaced. */
  readonly baud?: number;
  /** Module delays: a profile name (`'bg96'`, sources in latencyProfiles.ts) or some delays, the rest 0. Default: `'none'`. */
  readonly latency?: LatencyProfileName | Partial<LatencyProfile>;
  /** Boot timing and leading garbage. Default: RDY after 20 ms, URCs 2 ms apart. */
  readonly boot?: Partial<BootTiming>;
  /** SIM state for `AT+CPIN?`. Default: `'READY'`. */
  readonly sim?: 'READY' | 'absent' | 'PIN';
  /** Registration `<stat>` once registered (1 home, 5 roaming, 3 denied…) and how long after boot. Default: 1 at once. */
  readonly registration?: { readonly stat?: number; readonly afterMs?: number };
  /**
   * The port this AT channel is: `AT+QURCCFG="urcport"` (factory default `usbat`) decides whether URCs reach it.
   * Default: the model's USB AT port (`'usbat'`), or `'uart1'` on a model with a UART only (BC25).
   */
  readonly atPort?: AtPortName;
  /** Bytes the module's receive buffer holds; host bytes beyond it are lost, as on a UART. Default: 4096. */
  readonly rxBufferBytes?: number;
  /** Files present in UFS at power-on. Default: none. */
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
  /** IMEI for `AT+GSN`. Default: `'866425030000001'`. */
  readonly imei?: string;
  /**
   * `seclevel` 2 with a client certificate and no CA file: `'send'` opens without checking the server and sends
   * the certificate; `'refuse'` fails the open with 566, as firmware that needs a CA to send one would. Which real
   * firmware does which is not known (quectel-at.md §11 item 3). Default: `'send'`.
   */
  readonly clientCertWithoutCa?: 'send' | 'refuse';
  /**
   * The escape guard time of transparent mode: `+++` leaves data mode only with this much silence before and after
   * it (quectel-at.md §5.2: 1 s). Tests shorten it. Default: 1000 ms.
   */
  readonly guardTimeMs?: number;
  /**
   * Whether the firmware has transparent access mode (2) for `AT+QSSLOPEN`/`AT+QIOPEN`/`AT+QISWTMD`. `false` models
   * firmware without it: the test commands list `(0-1)` and mode 2 is a bad parameter (`ERROR`, 552). Default: true.
   */
  readonly transparent?: boolean;
  /**
   * Bytes each connection's send buffer holds: bytes sent (`SEND OK`) and not yet taken by the network count against
   * it, and a send that does not fit in the rest answers `SEND FAIL` (quectel-at.md §4.1). No manual gives the size
   * for SSL; the EC200U TCP/IP Application Note (§2.4.10) gives the free space of its TCP send buffer as 0–10240
   * bytes, taken here for every model and for SSL too [INFER]. Default: 10240.
   */
  readonly sendBufferBytes?: number;
  /**
   * The network's pace for sent bytes, per connection: a radio uplink, or a peer, slower than the serial line. Only
   * such a pace fills the send buffer on loopback, where the kernel's socket buffers take megabytes at once.
   * Default: as fast as the socket takes them.
   */
  readonly uplinkBytesPerSecond?: number;
}

/** Output waiting on the line past which a transparent connection stops reading its socket, and where it reads again. */
const TRANSPARENT_HIGH_WATER = 64 * 1024;
const TRANSPARENT_LOW_WATER = 16 * 1024;

/** The send path the options ask for. @throws QuectelError `INVALID_ARGUMENT` for a size or pace that is not a number > 0. */
function sendPathOf(options: VirtualModuleOptions): SendPath {
  const { sendBufferBytes = 10_240, uplinkBytesPerSecond } = options;
  for (const [name, v] of Object.entries({ sendBufferBytes, uplinkBytesPerSecond })) {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new QuectelError('INVALID_ARGUMENT', `${name} must be a number > 0, got ${String(v)}`);
    }
  }
  return uplinkBytesPerSecond === undefined ? { sendBufferBytes } : { sendBufferBytes, uplinkBytesPerSecond };
}

type Power = 'off' | 'booting' | 'on';
interface HeldUrc { readonly bytes: Buffer }

const DEFAULT_BOOT: BootTiming = { bootMs: 20, urcGapMs: 2, rebootSilenceMs: 100, garbage: new Uint8Array(0) };
/**
 * Boot URCs that reach the host's port whatever `AT+QURCCFG` says: a BG96 on its main UART with the URC port on
 * USB showed `RDY` (T03, T04, T08) and `APP RDY` (T08) there, and none of the others (quectel-at.md §10.1).
 */
const PORT_INDEPENDENT_BOOT_URCS = new Set(['RDY', 'APP RDY']);

export class VirtualModule extends EventEmitter<VirtualModuleEvents> implements ModuleCore {
  readonly profile: ModelProfile;
  readonly ufs: UfsStore;
  readonly faults: FaultState;
  readonly latency: LatencyProfile;
  readonly atPort: AtPortName;
  readonly imei: string;
  readonly clientCertWithoutCa: 'send' | 'refuse';
  readonly sim: 'READY' | 'absent' | 'PIN';
  readonly transparentSupported: boolean;
  readonly guardTimeMs: number;
  readonly sendPath: SendPath;
  state: ModuleState;
  generation = 0;
  tzQuarters = 0;

  private readonly commands: CommandTable;
  private readonly bootTiming: BootTiming;
  private readonly hosts: ReadonlyMap<string, string>;
  private readonly registrationStat: number;
  private readonly registrationAfterMs: number;
  private readonly outPacer: Pacer;
  private readonly inPacer: Pacer;
  private readonly timers = new ModuleTimers();
  private power: Power = 'off';
  /** False from the `OK` of a reboot or power-down until the next boot: input is not taken. */
  private accepting = true;
  private bootedAt = 0;
  private clockOffsetMs = 0;
  private gone = false;
  private disposed = false;
  private attached = false;
  private readonly rx: UartReceiver;
  /**
   * The power generation whose command processor is running, or -1. Per generation: a command cut off by a reset
   * (a send waiting for its payload) never finishes, and must not keep the next boot's processor from starting.
   */
  private processingGen = -1;
  private busy = false;
  private held: HeldUrc[] = [];
  /** Waiting for the held URCs to go out (see {@link outputRoom}). */
  private heldOut: Array<() => void> = [];
  private collector: PayloadCollector | undefined;
  /** Transparent mode: the connection whose bytes the port carries, and the `+++` detector on its input. */
  private data: { readonly conn: NetConnection; readonly escape: EscapeDetector } | undefined;
  /** The connection that last left transparent mode by `+++`, for `ATO` (§5.2). */
  private lastEscaped: NetConnection | undefined;

  constructor(options: VirtualModuleOptions = {}) {
    super();
    const model = options.model ?? 'BG96';
    if (!MODEL_NAMES.includes(model)) {
      throw new QuectelError('EMULATOR_BAD_MODEL', `unknown model "${String(model)}"; known: ${MODEL_NAMES.join(', ')}`);
    }
    this.profile = MODELS[model];
    this.commands = commandTable(this.profile);
    this.ufs = new UfsStore(this.profile.ufsBytes);
    for (const [name, data] of Object.entries(options.files ?? {})) {
      const key = UfsStore.key(name);
      if (key === undefined) throw new QuectelError('INVALID_ARGUMENT', `invalid UFS file name "${name}"`);
      this.ufs.set(key, Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
    }
    this.latency = resolveLatency(options.latency);
    this.bootTiming = { ...DEFAULT_BOOT, ...options.boot };
    this.hosts = new Map(Object.entries(options.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.atPort = options.atPort ?? this.profile.hostPort;
    this.rx = new UartReceiver(options.rxBufferBytes ?? 4096);
    this.imei = options.imei ?? '866425030000001';
    this.clientCertWithoutCa = options.clientCertWithoutCa ?? 'send';
    this.sim = options.sim ?? 'READY';
    this.transparentSupported = options.transparent ?? true;
    this.guardTimeMs = options.guardTimeMs ?? 1000;
    this.sendPath = sendPathOf(options);
    this.state = freshModuleState(this.profile.urcPortDefault ?? this.atPort);
    this.registrationStat = options.registration?.stat ?? 1;
    this.registrationAfterMs = options.registration?.afterMs ?? 0;
    this.outPacer = new Pacer((chunk) => this.emit('output', chunk), { baud: options.baud });
    this.inPacer = new Pacer((chunk) => this.receive(chunk), { baud: options.baud });
    this.faults = new FaultState({
      garbage: (bytes) => this.send(Buffer.from(bytes)),
      unplug: () => this.setGone(true),
      replug: () => this.setGone(false),
      peerClose: (id) => this.state.conns[id]?.socket?.destroy(),
      pdpDeactivate: (ctx) => this.networkDropsPdp(ctx),
      reset: () => this.restart(false),
      setDrip: (on) => {
        this.outPacer.drip = on;
      },
    });
  }

  // ---------------------------------------------------------------- host side

  /**
   * A host is on the line (its port opened, a TCP client connected, a pty linked): the first attach powers the
   * module on, so the boot banner reaches that host instead of nobody. Later attaches change nothing.
   */
  attach(): void {
    if (this.attached || this.disposed) return;
    this.attached = true;
    this.powerOn();
  }

  /**
   * The host went away (a TCP client of `emulate --tcp` disconnected). A payload it was sending (after `> ` or
   * `CONNECT`) ends now, as at its gap timeout, so the next host does not find the module swallowing its commands
   * as data for up to that timeout (a real module behind a serial server would wait it out).
   */
  hostLeft(): void {
    this.collector?.expire();
  }

  /**
   * Bytes from the host (the serial TX line); a host that writes is attached. Lost while the module is off, after a
   * reboot's `OK`, when the receive buffer is full, or while the port is unplugged; kept while it boots and run
   * right after `RDY`, as a BG96 answered an `AT` sent during its boot (T08: `\r\nRDY\r\nAT\r\r\nOK\r\n`).
   */
  write(bytes: Uint8Array): void {
    if (this.gone || this.disposed) return;
    this.attach();
    this.inPacer.push(bytes);
  }

  /**
   * Resolves once no more than `bytes` of the host's output are still on their way over the line to the module: a
   * serial driver's buffer for writes, 0 for a drain.
   */
  inputBelow(bytes: number): Promise<void> {
    return this.inPacer.whenBelow(bytes);
  }

  /** Host bytes lost because the receive buffer was full (see {@link VirtualModuleOptions.rxBufferBytes}). */
  get rxDropped(): number {
    return this.rx.dropped;
  }

  /** The path its serialport binding answers to: `emulator:<model>`. */
  get portPath(): string {
    return `emulator:${this.profile.name}`;
  }

  /** A serialport binding in front of this module (see {@link createEmulatorBinding}). */
  createBinding(): BindingInterface<EmulatorPort> {
    return createEmulatorBinding(this);
  }

  /** Whether the port is currently unplugged (see {@link FaultState.unplug}). */
  get unplugged(): boolean {
    return this.gone;
  }

  /** Whether the module is powered and past `RDY`. */
  get ready(): boolean {
    return this.power === 'on';
  }

  /** Changes the UART pacing at run time; `undefined` removes it. */
  setBaud(baud: number | undefined): void {
    this.outPacer.setBaud(baud);
    this.inPacer.setBaud(baud);
  }

  /** Powers the module on again after `AT+QPOWD` (the power key). No effect if it is on. */
  pressPowerKey(): void {
    this.attached = true;
    if (this.power === 'off') this.powerOn();
  }

  /** Stops everything: sockets, timers. The module answers nothing afterwards. */
  dispose(): void {
    // Ports on it see a disconnect (their pending reads settle), then everything stops.
    this.setGone(true);
    this.disposed = true;
    this.shutdown();
    this.power = 'off';
    this.outPacer.clear();
    this.inPacer.clear();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------- ModuleCore

  registration(): number {
    if (this.power !== 'on' || this.state.cfun !== 1) return 0;
    return Date.now() - this.bootedAt >= this.registrationAfterMs ? this.registrationStat : 2;
  }

  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  setClock(date: Date, tzQuarters: number): void {
    this.clockOffsetMs = date.getTime() - Date.now();
    this.tzQuarters = tzQuarters;
  }

  urc(text: string, gen = this.generation): void {
    this.urcWithData(text, new Uint8Array(0), gen);
  }

  urcWithData(text: string, data: Uint8Array, gen = this.generation): void {
    if (gen !== this.generation || this.power !== 'on') return;
    // URCs reach only the port AT+QURCCFG names (§1.3); a host on another port never sees them.
    if (this.profile.urcPortDefault !== undefined && this.state.urcPort !== this.atPort) return;
    const bytes = Buffer.concat([Buffer.from(`\r\n${text}\r\n`, 'latin1'), data]);
    this.trace('module', 'line', text, text.length);
    if (data.length > 0) this.trace('module', 'data', undefined, data.length);
    // Nothing is put into a data phase: a port in transparent mode is the connection's alone (TCP/IP AN §1.3,
    // "exclusive mode"); its URCs wait until the port is back in command mode.
    if (this.busy || this.collector || this.data) this.held.push({ bytes });
    else this.send(bytes);
  }

  flushUrcs(): void {
    this.flushHeld();
  }

  get outputWaiting(): number {
    return this.outPacer.pending + this.held.reduce((n, u) => n + u.bytes.length, 0);
  }

  outputRoom(bytes: number): Promise<void> {
    if (this.outputWaiting <= bytes || this.power === 'off') return Promise.resolve();
    // What is held leaves only when the command (or data mode) ends; the line drains on its own.
    if (this.held.length > 0 && this.outPacer.pending <= bytes) return new Promise((resolve) => this.heldOut.push(resolve));
    return this.outPacer.whenBelow(bytes);
  }

  readPayload(req: PayloadRequest): Promise<PayloadResult> {
    // Payload echo: after `>` it needs ATE1 and AT+QISDE=1 (§4.1); a BG95 with echo on also echoed an upload (T22).
    const echo = this.state.echo && req.ackEvery === undefined &&
      (req.kind === 'upload' ? this.profile.echoesUpload : this.state.sendEcho);
    const c = new PayloadCollector(req, echo ? (b) => this.send(b) : undefined);
    this.collector = c;
    // Bytes the host sent before the prompt reached it are already in the receive buffer: they are payload too.
    this.drainInto(c);
    void c.result.then((r) => {
      if (this.collector === c) this.collector = undefined;
      this.trace('host', 'payload', undefined, r.data.length);
    });
    return c.result;
  }

  async resolve(host: string, port: number): Promise<ResolvedTarget> {
    const mapped = this.hosts.get(host.toLowerCase()) ?? this.hostsByAddress.get(host);
    if (mapped !== undefined) {
      const m = /^(.*?)(?::(\d+))?$/.exec(mapped)!;
      return { ip: m[1]!, port: m[2] === undefined ? port : Number(m[2]) };
    }
    if (isIP(host) !== 0) return { ip: host, port };
    const { address } = await lookup(host, { family: 4 });
    return { ip: address, port };
  }

  /**
   * What the module's DNS answers for `host` (`AT+QIDNSGIP`). A `hosts` entry with a port answers an address of
   * its own from 198.18.0.0/15 (RFC 2544: never routed), so that a host resolving the name first and connecting to
   * the address (`getaddrinfo`, then `connect`) reaches the entry's port as a connection by name does.
   */
  async lookup(host: string): Promise<string> {
    const key = host.toLowerCase();
    const mapped = this.hosts.get(key);
    if (mapped !== undefined && /:\d+$/.test(mapped)) {
      for (const [address, entry] of this.hostsByAddress) if (entry === mapped && this.addressNames.get(address) === key) return address;
      const address = `198.18.${this.hostsByAddress.size >> 8}.${(this.hostsByAddress.size & 0xff) + 1}`;
      this.hostsByAddress.set(address, mapped);
      this.addressNames.set(address, key);
      return address;
    }
    return (await this.resolve(host, 0)).ip;
  }

  /** Addresses {@link lookup} handed out for `hosts` entries with a port, and the entry and name of each. */
  private readonly hostsByAddress = new Map<string, string>();
  private readonly addressNames = new Map<string, string>();

  reboot(): void {
    this.restart(true);
  }

  powerDown(): void {
    this.stopTakingInput();
    const gen = this.generation;
    this.timers.after(10, () => {
      if (gen !== this.generation) return;
      this.send(Buffer.from('\r\nPOWERED DOWN\r\n', 'latin1'));
      this.shutdown();
      this.power = 'off';
    });
  }

  sleep(ms: number): Promise<void> {
    return this.timers.sleep(ms);
  }

  // ---------------------------------------------------------------- transparent mode (§5.2)

  enterDataMode(conn: NetConnection, io: ResponseWriter): void {
    io.result('CONNECT');
    conn.accessMode = 2;
    const gen = this.generation;
    this.data = {
      conn,
      escape: new EscapeDetector(this.guardTimeMs, (bytes) => {
        this.trace('host', 'payload', undefined, bytes.length);
        conn.write(bytes);
      }, () => {
        if (gen === this.generation && this.data?.conn === conn) this.leaveDataMode('\r\nOK\r\n', conn);
      }),
    };
    this.trace('module', 'line', 'CONNECT (transparent mode)', 7);
    // What the connection buffered in command mode comes first (after `+++` it was in buffer mode).
    const buffered = conn.take(Number.POSITIVE_INFINITY);
    if (buffered.length > 0) this.transparentOutput(conn, buffered);
    // Bytes the host sent before it saw CONNECT are data too.
    if (this.rx.length > 0) {
      const early = this.rx.take(this.rx.length);
      this.data.escape.feed(early);
    }
  }

  resumeDataMode(io: ResponseWriter): void {
    const conn = this.lastEscaped;
    // ATO: back to the connection that left transparent mode; NO CARRIER when there is none (EC200U TCP/IP AN §1.1).
    if (!conn || this.state.conns[conn.id] !== conn || conn.state !== 2) return io.result('NO CARRIER');
    this.enterDataMode(conn, io);
  }

  transparentOutput(conn: NetConnection, chunk: Buffer): void {
    if (this.data?.conn !== conn) return;
    this.trace('module', 'data', undefined, chunk.length);
    this.send(chunk);
    // No flow control to the host is modelled beyond the line itself: past the high-water mark the socket waits.
    if (this.outPacer.pending > TRANSPARENT_HIGH_WATER && conn.socket && !conn.socket.isPaused()) {
      const socket = conn.socket;
      socket.pause();
      void this.outPacer.whenBelow(TRANSPARENT_LOW_WATER).then(() => {
        if (!socket.destroyed) socket.resume();
      });
    }
  }

  transparentClosed(conn: NetConnection): void {
    if (this.data?.conn !== conn) return;
    // §5.2: the module reports NO CARRIER; the id stays in the closing state (4) until AT+QSSLCLOSE frees it, as
    // after a "closed" URC (§5.1) [INFER].
    if (this.lastEscaped === conn) this.lastEscaped = undefined;
    this.leaveDataMode('\r\nNO CARRIER\r\n', undefined);
  }

  /** The port is back in command mode: the result, then the URCs held meanwhile, then any queued command lines. */
  private leaveDataMode(result: string, escaped: NetConnection | undefined): void {
    const data = this.data;
    if (!data) return;
    data.escape.dispose();
    this.data = undefined;
    if (escaped) {
      escaped.accessMode = 0;
      this.lastEscaped = escaped;
      if (escaped.socket?.isPaused()) escaped.socket.resume();
    }
    this.trace('module', 'line', result.trim(), result.trim().length);
    this.send(Buffer.from(result, 'latin1'));
    this.flushHeld();
    this.kick();
  }

  // ---------------------------------------------------------------- power

  /** Power-on: input is buffered from now, `RDY` after the boot time, then the rest of the banner. */
  private powerOn(): void {
    this.power = 'booting';
    this.accepting = true;
    const gen = this.generation;
    this.timers.after(this.bootTiming.bootMs, () => {
      if (gen !== this.generation || this.disposed) return;
      this.power = 'on';
      this.bootedAt = Date.now();
      if (this.bootTiming.garbage.length > 0) this.send(Buffer.from(this.bootTiming.garbage));
      this.send(Buffer.from('\r\nRDY\r\n', 'latin1'));
      this.trace('module', 'line', 'RDY', 3);
      this.bootUrcs.forEach((u, i) => this.timers.after((i + 1) * this.bootTiming.urcGapMs, () => this.bootUrc(u, gen)));
      this.kick();
    });
  }

  /**
   * The boot URCs as the SIM leaves them: a SIM that needs its PIN says so (`+CPIN: SIM PIN`) and the lines that
   * follow a ready SIM (`+QUSIM`, SMS and phonebook done) do not come; with no SIM there is no `+CPIN` line at all.
   */
  get bootUrcs(): readonly string[] {
    if (this.sim === 'READY') return this.profile.bootUrcs;
    const simLines = /^\+(CPIN|QUSIM):|^\+QIND: (SMS|PB) DONE/;
    return this.profile.bootUrcs.flatMap((u) => {
      if (u === '+CPIN: READY') return this.sim === 'PIN' ? ['+CPIN: SIM PIN'] : [];
      return simLines.test(u) ? [] : [u];
    });
  }

  private bootUrc(text: string, gen: number): void {
    if (!PORT_INDEPENDENT_BOOT_URCS.has(text)) return this.urc(text, gen);
    if (gen !== this.generation || this.power !== 'on') return;
    const bytes = Buffer.from(`\r\n${text}\r\n`, 'latin1');
    this.trace('module', 'line', text, text.length);
    if (this.busy || this.collector || this.data) this.held.push({ bytes });
    else this.send(bytes);
  }

  /**
   * A reboot (`AT+CFUN=1,1`, with `POWERED DOWN` and the stale pdpdeact of T04) or a spontaneous reset (silence).
   * Either way everything but UFS is lost, then the module boots again.
   */
  private restart(announced: boolean): void {
    const pdpWasActive = [...this.state.pdp.entries()].find(([, c]) => c.active)?.[0];
    const silence = () => {
      this.shutdown();
      this.timers.after(this.bootTiming.rebootSilenceMs, () => this.powerOn());
    };
    if (!announced) {
      // Power fails at once: what was still on its way out of the UART (the rest of a download, a data block, the
      // OK after it) never leaves the module.
      this.outPacer.clear();
      return silence();
    }
    this.stopTakingInput();
    const gen = this.generation;
    this.timers.after(10, () => {
      if (gen !== this.generation) return;
      let text = '\r\nPOWERED DOWN\r\n';
      if (pdpWasActive !== undefined) text += `\r\n+QIURC: "pdpdeact",${pdpWasActive}\r\n`;
      this.send(Buffer.from(text, 'latin1'));
      silence();
    });
  }

  /** From the OK of a reboot or power-down: input, including lines already queued, is dropped. */
  private stopTakingInput(): void {
    this.accepting = false;
    this.rx.clear();
  }

  /** Power is gone: sockets drop, state resets, queued input and held URCs are lost. */
  private shutdown(): void {
    this.generation++;
    for (const c of this.state.conns) c?.destroy();
    this.state = freshModuleState(this.profile.urcPortDefault ?? this.atPort);
    this.faults.onReboot();
    this.collector?.abandon();
    this.collector = undefined;
    this.data?.escape.dispose();
    this.data = undefined;
    this.lastEscaped = undefined;
    this.rx.clear();
    this.held = [];
    for (const resolve of this.heldOut.splice(0)) resolve();
    this.busy = false;
    this.power = 'off';
    this.timers.clear();
  }

  private setGone(gone: boolean): void {
    if (this.gone === gone) return;
    this.gone = gone;
    if (gone) this.outPacer.clear();
    this.emit('unplugged', gone);
  }

  private networkDropsPdp(ctx: number): void {
    const pdp = this.state.pdp.get(ctx);
    if (pdp) pdp.active = false;
    this.urc(`+QIURC: "pdpdeact",${ctx}`);
    for (const c of this.state.conns) {
      if (c && c.init.pdpContext === ctx && c.state === 2) c.socket?.destroy();
    }
  }

  /** Emits a trace event when anyone listens (payload bytes are never part of it, only their count). */
  private trace(from: ModuleTraceEvent['from'], kind: ModuleTraceEvent['kind'], text: string | undefined, length: number): void {
    if (this.listenerCount('trace') === 0) return;
    this.emit('trace', { at: performance.now(), from, kind, ...(text === undefined ? {} : { text }), length });
  }

  private send(bytes: Buffer): void {
    if (this.gone || this.disposed || this.power === 'off' || bytes.length === 0) return;
    this.outPacer.push(bytes);
  }

  // ---------------------------------------------------------------- input

  private receive(chunk: Buffer): void {
    if (this.power === 'off' || !this.accepting) return;
    // Transparent mode: every byte is the connection's, unless it is a guarded `+++`.
    if (this.data) return this.data.escape.feed(chunk);
    const c = this.collector;
    let rest = chunk;
    if (c && !c.finished) {
      this.drainInto(c);
      // A payload phase reads the line as fast as it comes: only what is left after it fills the buffer.
      if (!c.finished && this.rx.length === 0) rest = chunk.subarray(c.feed(chunk));
    }
    if (rest.length > 0) this.rx.push(rest);
    this.kick();
  }

  private drainInto(c: PayloadCollector): void {
    while (!c.finished && this.rx.length > 0) {
      const chunk = this.rx.take(this.rx.length);
      const used = c.feed(chunk);
      if (used < chunk.length) this.unread(chunk.subarray(used));
    }
  }

  /** Puts bytes a finished payload phase did not take back in front of the buffer. */
  private unread(bytes: Buffer): void {
    const after = this.rx.take(this.rx.length);
    this.rx.clear();
    this.rx.push(Buffer.concat([bytes, after]));
  }

  private kick(): void {
    if (this.processingGen === this.generation || this.power !== 'on') return;
    void this.process();
  }

  /**
   * Runs buffered command lines one at a time. Between two commands it yields to the event loop, so a backlog never
   * holds up sockets, timers or signals (50,000 queued lines once stalled the process for 8 s).
   */
  private async process(): Promise<void> {
    const gen = this.generation;
    this.processingGen = gen;
    try {
      while (gen === this.generation && this.power === 'on' && this.accepting && !this.collector && !this.data) {
        const line = this.rx.nextLine();
        if (line === undefined) break;
        this.busy = true;
        try {
          await this.execute(line, gen);
        } finally {
          if (gen === this.generation) {
            this.busy = false;
            this.flushHeld();
          }
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      if (this.processingGen === gen) this.processingGen = -1;
    }
    // Input that arrived while the last command finished, or after a payload phase ended.
    if (gen === this.generation && this.rx.length > 0 && !this.collector && !this.data) this.kick();
  }

  private flushHeld(): void {
    if (this.data) return;
    const held = this.held;
    this.held = [];
    for (const u of held) this.send(u.bytes);
    for (const resolve of this.heldOut.splice(0)) resolve();
  }

  private async execute(line: string, gen: number): Promise<void> {
    const out = (b: Buffer) => {
      if (gen === this.generation) this.send(b);
    };
    if (this.state.echo) out(Buffer.from(`${line}\r`, 'latin1'));
    this.trace('host', 'line', line, line.length);
    this.emit('command', line);
    for (const u of this.faults.takeUrcAfterEcho(line)) out(Buffer.from(`\r\n${u}\r\n`, 'latin1'));
    if (this.faults.takeReset(line)) {
      this.restart(false);
      return;
    }
    const dropped = this.faults.takeDrop(line);
    await this.sleep(this.latency.commandMs + this.faults.takeDelay(line));
    if (gen !== this.generation) return;
    const io = new ModuleResponse(
      dropped ? () => {} : out,
      () => this.state.cmee,
      (code) => {
        this.state.lastQiError = code;
      },
      dropped ? undefined : (kind, text, length) => this.trace('module', kind, text, length),
    );
    await dispatchCommand(line, io, this, this.commands);
  }
}
