/**
 * What a command handler sees of the virtual module: its state, its UFS, its network and the URC path.
 * VirtualModule implements it; handlers depend on this type only.
 */
import type { ModelProfile } from './models.js';
import type { NetConnection } from './network/NetConnection.js';
import type { SslParamName } from './sslParams.js';
import type { UfsStore } from './UfsStore.js';
import type { FaultState } from './faults.js';
import type { ParsedCommand } from './parseCommandLine.js';

export type AtPortName = 'uart1' | 'usbat' | 'usbmodem';

export interface PdpContext {
  type: number;
  apn: string;
  user: string;
  password: string;
  auth: number;
  active: boolean;
  ip: string;
}

/** One SSL context's settings: numbers, the cipher code, or quoted texts (a path, a key password, a PSK pair). */
export type SslParamValue = number | readonly string[];
export type SslContext = Map<SslParamName, SslParamValue>;

/** Everything a reboot resets. Files are kept apart because they survive it. */
export interface ModuleState {
  echo: boolean;
  cmee: 0 | 1 | 2;
  /** `AT+QISDE`: echo of the payload typed after `>`. */
  sendEcho: boolean;
  cfun: number;
  lastQiError: number;
  urcPort: AtPortName;
  /** `AT+CGATT`: packet-domain attach (on at boot). */
  psAttached: boolean;
  /** `AT+QSIMSTAT=<enable>`: SIM insertion URC switch. */
  simStatUrc: number;
  /** `AT+QCFG` settings changed since boot, by lower-case name; the rest read as the profile's values. */
  readonly qcfg: Map<string, string>;
  /** `AT+QIDNSCFG` servers by context. */
  readonly dns: Map<number, readonly [string, string]>;
  /** `<n>` of `AT+CREG=`/`CGREG=`/`CEREG=` by command (`+CREG`), reset at boot. */
  readonly registrationUrcMode: Map<string, number>;
  readonly pdp: Map<number, PdpContext>;
  readonly ssl: Map<number, SslContext>;
  /** Client ids 0–11, one pool shared by `AT+QIOPEN` and `AT+QSSLOPEN` (§3, INFER as Mbed does). */
  readonly conns: Array<NetConnection | undefined>;
}

/** The state of a module that just booted: echo on, CMEE 1, nothing configured, no PDP context or connection. */
export function freshModuleState(urcPort: AtPortName): ModuleState {
  return {
    echo: true, cmee: 1, sendEcho: false, cfun: 1, lastQiError: 0, urcPort, psAttached: true, simStatUrc: 0,
    qcfg: new Map(), dns: new Map(), pdp: new Map(), ssl: new Map(), conns: new Array(12).fill(undefined), registrationUrcMode: new Map(),
  };
}

/** Delays the module adds, in milliseconds (named sets in latencyProfiles.ts). */
export interface LatencyProfile {
  /** From a command line's CR to its first response byte, for every command. Default: 0. */
  readonly commandMs: number;
  /** `AT+QSSLSEND` / `AT+QISEND`: then on to the `>` prompt. Default: 0. */
  readonly promptMs: number;
  /** From the last payload byte of a send to `SEND OK` (the bytes were already handed to the socket). Default: 0. */
  readonly sendOkMs: number;
  /** Added to each TLS handshake before `+QSSLOPEN`. Default: 0. */
  readonly handshakeMs: number;
  /** `AT+QIACT` activation time. Default: 0. */
  readonly pdpActivateMs: number;
  /** Before `AT+QIDNSGIP` results. Default: 0. */
  readonly dnsMs: number;
}

/** What stands between a connection's `SEND OK` and the network. */
export interface SendPath {
  /** Bytes a connection's send buffer holds; a send that does not fit answers `SEND FAIL`. */
  readonly sendBufferBytes: number;
  /** Bytes per second the network takes from it; undefined: as fast as the socket takes them. */
  readonly uplinkBytesPerSecond?: number;
}

export interface BootTiming {
  /** From power-on to `RDY`. Default: 20 ms. */
  readonly bootMs: number;
  /** Between boot URCs. Default: 2 ms. */
  readonly urcGapMs: number;
  /** Silence after `POWERED DOWN` before the module boots again (`AT+CFUN=1,1`). Default: 100 ms. */
  readonly rebootSilenceMs: number;
  /** Bytes some modules print before `RDY` (§10.1: "optional leading garbage"). Default: none. */
  readonly garbage: Uint8Array;
}

export interface PayloadRequest {
  /** After a send prompt (`>`) or an upload's `CONNECT`: the payload echo rules differ (§4.1, §6.1 T22). */
  readonly kind: 'send' | 'upload';
  /** Exact byte count to collect; omit for the Ctrl-Z form. */
  readonly length?: number;
  /** Ctrl-Z (0x1A) ends the payload, ESC (0x1B) cancels it. */
  readonly ctrlZ?: boolean;
  /** Longest silence between bytes before giving up (QFUPL's `<timeout>`). */
  readonly gapTimeoutMs?: number;
  /** ACK mode of QFUPL: call `onAck` each time this many bytes arrived. */
  readonly ackEvery?: number;
  readonly onAck?: () => void;
}

export interface PayloadResult {
  readonly data: Buffer;
  readonly end: 'complete' | 'ctrl-z' | 'escape' | 'timeout';
}

/** A command's response bytes, in the module's framing (§1.1). */
export interface ResponseWriter {
  /** An information line: `\r\n<line>\r\n`, or `<line>\r\n` right after another. */
  info(line: string): void;
  /** A line right after a data phase, with no leading CR LF (`+QFUPL:` after the last upload byte, T01/T02). */
  lineAfterData(line: string): void;
  /** Raw bytes (a data block); ends an information block. */
  bytes(data: Uint8Array): void;
  /** A final or intermediate result code framed as `\r\n<code>\r\n`. */
  result(code: string): void;
  ok(): void;
  error(): void;
  /** `+CME ERROR: <n>` as AT+CMEE says: bare `ERROR`, the number, or the text. */
  cme(code: number): void;
  /** `ERROR` for a TCP/IP or SSL command, with the number `AT+QIGETERROR` will report. */
  qiError(code: number): void;
  /** The send prompt `\r\n> ` (no line end, T09/S17). */
  prompt(): void;
}

export type CommandHandler = (cmd: ParsedCommand, io: ResponseWriter, core: ModuleCore) => void | Promise<void>;
export type CommandTable = Readonly<Record<string, CommandHandler>>;

export interface ResolvedTarget {
  readonly ip: string;
  readonly port: number;
}

export interface ModuleCore {
  readonly profile: ModelProfile;
  readonly state: ModuleState;
  readonly ufs: UfsStore;
  readonly faults: FaultState;
  readonly latency: LatencyProfile;
  readonly atPort: AtPortName;
  readonly imei: string;
  /** What `seclevel` 2 with no CA file does: send the client certificate unverified, or refuse the open. */
  readonly clientCertWithoutCa: 'send' | 'refuse';
  readonly sim: 'READY' | 'absent' | 'PIN';
  /** Whether the firmware has transparent access mode (2). */
  readonly transparentSupported: boolean;
  /** Each new connection's send buffer and uplink pace (see {@link SendPath}). */
  readonly sendPath: SendPath;
  /** Registration state (`<stat>` of CREG/CGREG/CEREG) as of now. */
  registration(): number;
  /** Module clock (`AT+CCLK`). */
  now(): Date;
  setClock(date: Date, tzQuarters: number): void;
  readonly tzQuarters: number;
  /** Power generation; async work started in an older one must not speak. */
  readonly generation: number;
  /** Sends a URC `\r\n<text>\r\n`, held back while a response or data phase is under way. */
  urc(text: string, gen?: number): void;
  /** Sends a URC followed by raw bytes (direct push), as one unit that nothing is interleaved with. */
  urcWithData(text: string, data: Uint8Array, gen?: number): void;
  /**
   * Sends the URCs held back while the current command runs now, ahead of its response (§1.3 allows both places): a
   * command that changes what later URCs mean (`AT+QISWTMD`) puts the old ones before its `OK`.
   */
  flushUrcs(): void;
  /** Bytes on their way to the host: on the line, and in URCs held while a command runs. */
  readonly outputWaiting: number;
  /** Resolves once {@link outputWaiting} is at most `bytes` (or the module lost power). */
  outputRoom(bytes: number): Promise<void>;
  readPayload(req: PayloadRequest): Promise<PayloadResult>;
  /** Resolves a server name the module's way: the `hosts` option first, then the system resolver. */
  resolve(host: string, port: number): Promise<ResolvedTarget>;
  /** The address the module's DNS answers for a name (`AT+QIDNSGIP`). */
  lookup(host: string): Promise<string>;
  /** Full reboot as `AT+CFUN=1,1` does: OK has been sent by the caller. */
  reboot(): void;
  powerDown(): void;
  sleep(ms: number): Promise<void>;
  /**
   * Transparent mode (§5.2): answers `CONNECT`, and from then on the port carries `conn`'s bytes both ways until a
   * guarded `+++` (then `OK`, and the connection is in buffer mode) or the peer closing (`NO CARRIER`). Data the
   * connection buffered before follows the `CONNECT`.
   */
  enterDataMode(conn: NetConnection, io: ResponseWriter): void;
  /** `ATO`: back to transparent mode on the connection that left it by `+++`; `NO CARRIER` when there is none. */
  resumeDataMode(io: ResponseWriter): void;
  /** Bytes from a transparent connection's peer, for the port. */
  transparentOutput(conn: NetConnection, chunk: Buffer): void;
  /** A transparent connection's peer closed, or the link broke. */
  transparentClosed(conn: NetConnection): void;
}
