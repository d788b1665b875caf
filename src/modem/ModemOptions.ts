/**
 * Options of a {@link Modem} and what it learns about the module.
 */
import type { AtClientOptions } from '../at/AtClient.js';
import type { ConnectionTuning } from './services/Connection.js';

/** The AT port that `AT+QURCCFG="urcport"` can route URCs to (§1.3). */
export type UrcPort = 'usbat' | 'usbmodem' | 'uart1';

/** The access point for `AT+QICSGP`. */
export interface ApnOptions {
  readonly apn: string;
  /** Default: empty. */
  readonly user?: string;
  /** Default: empty. */
  readonly password?: string;
  /** 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP. Default: 0. */
  readonly auth?: 0 | 1 | 2 | 3;
}

export interface ModemOptions {
  /** Set with `AT+QICSGP` before activation. Default: the module's stored setting. */
  readonly apn?: ApnOptions;
  /** PDP context to activate. Default: 1. */
  readonly pdpContext?: number;
  /** Where URCs must go; when set, a module routing them elsewhere is set right. Default: only read and reported. */
  readonly urcPort?: UrcPort;
  /**
   * Which AT interface this port is, where known (`usbat`, `usbmodem`, `uart1`). Only transparent mode asks: when
   * URCs go to another interface, none can be lost while this port carries a connection's bytes. Default: unknown,
   * and then URCs are taken to come to this port, as the library needs them to everywhere else.
   */
  readonly atPort?: UrcPort;
  /**
   * Where URCs go while this port is in transparent data mode: another interface, which `AT+QURCCFG="urcport"` is set
   * to before the connection opens and set back from when it closes. While the port carries one connection's bytes
   * the module cannot report anything on it (whether it keeps or drops those URCs is not documented, quectel-at.md
   * §5.2), so without this (or an `atPort` URCs do not go to) a transparent open is refused. Default: none.
   */
  readonly dataModeUrcPort?: UrcPort;
  /** How long the module may take to answer `AT` after the port opened or it restarted. Default: 10000 ms. */
  readonly syncTimeoutMs?: number;
  /** SIM readiness deadline. Default: 20000 ms (§7.1). */
  readonly simTimeoutMs?: number;
  /** Registration deadline. Default: 90000 ms (§7.1). */
  readonly registrationTimeoutMs?: number;
  /** Pause between registration polls. Default: 1000 ms. */
  readonly registrationPollMs?: number;
  /** Reopening a vanished port: first delay, cap and attempts (exponential backoff). Default: 200 ms, 5000 ms, 10. */
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number; readonly maxAttempts?: number };
  /** Restarts tolerated while coming up before giving up with `MODEM_RESETTING`. Default: 3. */
  readonly maxResets?: number;
  /**
   * After the network dropped the PDP context (`+QIURC: "pdpdeact"`): first delay, cap and attempts of reactivating
   * it (exponential backoff) before the modem fails with `MODEM_PDP_FAILED`. Default: 500 ms, 10000 ms, 8.
   */
  readonly pdpRecovery?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number; readonly maxAttempts?: number };
  /** Options of the AT client: timeouts, trace. Default: the manuals' timeouts, no trace. */
  readonly at?: AtClientOptions;
  /** Buffers, polling and `SEND FAIL` retries of client connections. Default: see {@link ConnectionTuning}. */
  readonly connections?: ConnectionTuning;
}

/**
 * The command dialect a module speaks beyond 3GPP: `lte` for the LTE/UMTS families with `AT+QICSGP`/`AT+QIACT` and
 * the BG96-style SSL set; `nb-iot` for BC25/BC66/BC660K and the like, whose PDP context comes up with attach
 * (`AT+CGATT`, `AT+CGPADDR`) and which have another SSL dialect or none (quectel-at.md §8.2, §9).
 */
export type ModuleFamily = 'lte' | 'nb-iot';

/** What identification found. */
export interface ModuleInfo {
  /** `Quectel`, or `Quectel_Ltd` on NB-IoT modules. */
  readonly manufacturer: string;
  readonly family: ModuleFamily;
  readonly model: string;
  readonly revision: string;
  /** `AT+QGMR`. */
  readonly firmware: string;
  /** Whether the module has the BG96-style SSL command set (`AT+QSSLCFG=?` starts with sslversion). */
  readonly ssl: boolean;
  /** The `AT+QSSLCFG` parameters this firmware lists, in order. */
  readonly sslParams: readonly string[];
  /** The cipher suites (IANA codes) its `"ciphersuite"` test line lists, without 0xFFFF (all). */
  readonly cipherSuites: readonly number[];
}
