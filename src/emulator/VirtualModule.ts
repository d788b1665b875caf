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
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { lookup } from 'node:dns/promises';
import { QuectelError } from '../errors.js';
import { BASIC_COMMANDS, commandTable } from './commands/index.js';
import { createEmulatorBinding, type EmulatorPort } from './EmulatorBinding.js';
import { FaultState } from './faults.js';
import type {
  AtPortName, CommandTable, BootTiming, LatencyProfile, ModuleCore, ModuleState, PayloadRequest, PayloadResult, ResolvedTarget,
} from './ModuleCore.js';
import { ModuleResponse } from './ModuleResponse.js';
import { MODEL_NAMES, MODELS, type ModelName, type ModelProfile } from './models.js';
import { Pacer } from './Pacer.js';
import { parseCommandLine } from './parseCommandLine.js';
import { PayloadCollector } from './PayloadCollector.js';
import { UfsStore } from './UfsStore.js';

/** Options of {@link VirtualModule}. */
export interface VirtualModuleOptions {
  /** The model to behave as. Default: `'BG96'`. */
  readonly model?: ModelName;
  /** Name → `ip` or `ip:port` overrides, consulted before the system resolver: `{ 'myssl.com': '127.0.0.1:8443' }`. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** UART speed: bytes flow no faster than baud/10 per second in each direction. Default: unpaced. */
  readonly baud?: number;
  /** Processing and network delays. Default: all 0. */
  readonly latency?: Partial<LatencyProfile>;
  /** Boot timing and leading garbage. Default: RDY after 20 ms, URCs 2 ms apart. */
  readonly boot?: Partial<BootTiming>;
  /** SIM state for `AT+CPIN?`. Default: `'READY'`. */
  readonly sim?: 'READY' | 'absent' | 'PIN';
  /** Registration `<stat>` once registered (1 home, 5 roaming, 3 denied…) and how long after boot. Default: 1 at once. */
  readonly registration?: { readonly stat?: number; readonly afterMs?: number };
  /** The port this AT channel is (`AT+QURCCFG="urcport"` decides whether URCs reach it). Default: `'usbat'`. */
  readonly atPort?: AtPortName;
  /** Files present in UFS at power-on. Default: none. */
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
  /** IMEI for `AT+GSN`. Default: `'866425030000001'`. */
  readonly imei?: string;
}

/** Events of {@link VirtualModule}. */
export interface VirtualModuleEvents {
  /** Bytes the module sends to the host, already paced. */
  output: [chunk: Buffer];
  /** The port vanished (`true`) or came back (`false`). */
  unplugged: [gone: boolean];
  /** Each command line the module took, for tests and traces. */
  command: [line: string];
}

type Power = 'off' | 'booting' | 'on';
interface HeldUrc { readonly bytes: Buffer }

const DEFAULT_LATENCY: LatencyProfile = { commandMs: 0, handshakeMs: 0, pdpActivateMs: 0, dnsMs: 0 };
const DEFAULT_BOOT: BootTiming = { bootMs: 20, urcGapMs: 2, rebootSilenceMs: 100, garbage: new Uint8Array(0) };
const CR = 0x0d;
const LF = 0x0a;

export class VirtualModule extends EventEmitter<VirtualModuleEvents> implements ModuleCore {
  readonly profile: ModelProfile;
  readonly ufs: UfsStore;
  readonly faults: FaultState;
  readonly latency: LatencyProfile;
  readonly atPort: AtPortName;
  readonly imei: string;
  readonly sim: 'READY' | 'absent' | 'PIN';
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
  private readonly timers = new Set<NodeJS.Timeout>();
  private power: Power = 'off';
  /** False from the `OK` of a reboot or power-down until the next boot: input is not taken. */
  private accepting = true;
  private bootedAt = 0;
  private clockOffsetMs = 0;
  private gone = false;
  private disposed = false;
  private lineBuf: number[] = [];
  private readonly lines: string[] = [];
  private busy = false;
  private held: HeldUrc[] = [];
  private collector: PayloadCollector | undefined;

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
    this.latency = { ...DEFAULT_LATENCY, ...options.latency };
    this.bootTiming = { ...DEFAULT_BOOT, ...options.boot };
    this.hosts = new Map(Object.entries(options.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.atPort = options.atPort ?? 'usbat';
    this.imei = options.imei ?? '866425030000001';
    this.sim = options.sim ?? 'READY';
    this.state = VirtualModule.freshState(this.atPort);
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
    this.powerOn();
  }

  private static freshState(urcPort: AtPortName): ModuleState {
    return {
      echo: true, cmee: 1, sendEcho: false, cfun: 1, lastQiError: 0, urcPort,
      pdp: new Map(), ssl: new Map(), conns: new Array(12).fill(undefined), registrationUrcMode: new Map(),
    };
  }

  // ---------------------------------------------------------------- host side

  /** Bytes from the host (the serial TX line). Ignored while the module is off or the port is unplugged. */
  write(bytes: Uint8Array): void {
    if (this.gone || this.disposed) return;
    this.inPacer.push(bytes);
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
    if (this.state.urcPort !== this.atPort) return;
    const bytes = Buffer.concat([Buffer.from(`\r\n${text}\r\n`, 'latin1'), data]);
    if (this.busy || this.collector) this.held.push({ bytes });
    else this.send(bytes);
  }

  readPayload(req: PayloadRequest): Promise<PayloadResult> {
    const echo = this.state.echo && this.state.sendEcho && req.ackEvery === undefined;
    const c = new PayloadCollector(req, echo ? (b) => this.send(b) : undefined);
    this.collector = c;
    void c.result.then(() => {
      if (this.collector === c) this.collector = undefined;
    });
    return c.result;
  }

  async resolve(host: string, port: number): Promise<ResolvedTarget> {
    const mapped = this.hosts.get(host.toLowerCase());
    if (mapped !== undefined) {
      const m = /^(.*?)(?::(\d+))?$/.exec(mapped)!;
      return { ip: m[1]!, port: m[2] === undefined ? port : Number(m[2]) };
    }
    const { address } = await lookup(host, { family: 4 });
    return { ip: address, port };
  }

  reboot(): void {
    this.restart(true);
  }

  powerDown(): void {
    this.stopTakingInput();
    const gen = this.generation;
    this.after(10, () => {
      if (gen !== this.generation) return;
      this.send(Buffer.from('\r\nPOWERED DOWN\r\n', 'latin1'));
      this.shutdown();
      this.power = 'off';
    });
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.after(ms, resolve));
  }

  // ---------------------------------------------------------------- power

  private powerOn(): void {
    this.power = 'booting';
    const gen = this.generation;
    this.after(this.bootTiming.bootMs, () => {
      if (gen !== this.generation || this.disposed) return;
      this.power = 'on';
      this.accepting = true;
      this.bootedAt = Date.now();
      if (this.bootTiming.garbage.length > 0) this.send(Buffer.from(this.bootTiming.garbage));
      this.send(Buffer.from('\r\nRDY\r\n', 'latin1'));
      this.profile.bootUrcs.forEach((u, i) => this.after((i + 1) * this.bootTiming.urcGapMs, () => this.urc(u, gen)));
    });
  }

  /**
   * A reboot (`AT+CFUN=1,1`, with `POWERED DOWN` and the stale pdpdeact of T04) or a spontaneous reset (silence).
   * Either way everything but UFS is lost, then the module boots again.
   */
  private restart(announced: boolean): void {
    const pdpWasActive = [...this.state.pdp.entries()].find(([, c]) => c.active)?.[0];
    const silence = () => {
      this.shutdown();
      this.after(this.bootTiming.rebootSilenceMs, () => this.powerOn());
    };
    if (!announced) return silence();
    this.stopTakingInput();
    const gen = this.generation;
    this.after(10, () => {
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
    this.lines.length = 0;
    this.lineBuf = [];
  }

  /** Power is gone: sockets drop, state resets, queued input and held URCs are lost. */
  private shutdown(): void {
    this.generation++;
    for (const c of this.state.conns) c?.destroy();
    this.state = VirtualModule.freshState(this.atPort);
    this.faults.onReboot();
    this.collector?.abandon();
    this.collector = undefined;
    this.lines.length = 0;
    this.lineBuf = [];
    this.held = [];
    this.busy = false;
    this.power = 'off';
    for (const t of this.timers) clearTimeout(t);
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

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private send(bytes: Buffer): void {
    if (this.gone || this.disposed || this.power === 'off' || bytes.length === 0) return;
    this.outPacer.push(bytes);
  }

  // ---------------------------------------------------------------- input

  private receive(chunk: Buffer): void {
    if (this.power !== 'on' || !this.accepting) return;
    let i = 0;
    while (i < chunk.length) {
      if (this.collector && !this.collector.finished) {
        i += this.collector.feed(chunk.subarray(i));
        continue;
      }
      const b = chunk[i++]!;
      if (b === CR) {
        this.lines.push(Buffer.from(this.lineBuf).toString('latin1'));
        this.lineBuf = [];
        void this.pump();
      } else if (b === LF && this.lineBuf.length === 0) {
        // An LF after the CR of the previous line (hosts that end lines with CR LF) is ignored (§1.1).
      } else if (this.lineBuf.length < 4096) {
        this.lineBuf.push(b);
      }
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    const gen = this.generation;
    while (this.lines.length > 0 && gen === this.generation && !this.collector && this.accepting) {
      const line = this.lines.shift()!;
      this.busy = true;
      try {
        await this.execute(line, gen);
      } finally {
        if (gen === this.generation) {
          this.busy = false;
          this.flushHeld();
        }
      }
    }
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = [];
    for (const u of held) this.send(u.bytes);
  }

  private async execute(line: string, gen: number): Promise<void> {
    const out = (b: Buffer) => {
      if (gen === this.generation) this.send(b);
    };
    if (this.state.echo) out(Buffer.from(`${line}\r`, 'latin1'));
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
    );
    const text = line.trim();
    if (text === '') return; // an empty line: nothing but its echo
    if (!/^at/i.test(text)) return; // modules ignore text that is no command
    const basic = /^at((?:&?[a-z]\d*)+)$/i.exec(text);
    if (basic) return BASIC_COMMANDS.run(basic[1]!, io, this);
    if (/^atS\d+(=\d+|\?)$/i.test(text)) return io.ok(); // S registers: taken, not modelled
    const cmd = parseCommandLine(text);
    const handler = cmd && this.commands[cmd.name];
    if (!cmd || !handler) return io.error();
    // AT+QIGETERROR reports the last TCP/IP or SSL command (S1 §5): each one starts from "operate successfully".
    if (/^\+Q(I|SSL)/.test(cmd.name) && cmd.name !== '+QIGETERROR') this.state.lastQiError = 0;
    await handler(cmd, io, this);
  }
}
