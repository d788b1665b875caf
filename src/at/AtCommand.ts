/**
 * A command as data (lessons.md §10.3): what to send, which reply lines belong to it, how long it may take, the
 * payload for its prompt or `CONNECT`, the counted data its reply carries, and a result that comes after `OK`.
 */
import type { DataChannel } from './DataChannel.js';

/** One command for the engine. */
export interface AtCommand {
  /**
   * The command line without its CR, e.g. `AT+QSSLRECV=0,1500`. A string must be printable ASCII (0x20–0x7E):
   * anything else could end the line or start another command once written, and is refused with
   * `INVALID_ARGUMENT`. Bytes (a `Uint8Array`) are written as given, for callers that mean them; only CR and LF are
   * refused there.
   */
  readonly command: string | Uint8Array;
  /**
   * Prefixes of the information lines this command answers with (`+QSSLRECV:`). A line with one of them is this
   * command's reply even where the same prefix can be a URC (`+CREG:`, `+QSSLOPEN:`); other lines are not. Default:
   * none, and then any line that is not a known URC counts as reply while the command is in flight.
   */
  readonly expect?: readonly string[];
  /** Deadline for the final result code, from the moment the command was written. Default: the engine's. */
  readonly timeoutMs?: number;
  /** Bytes to write after the send prompt `>` (QSSLSEND, QISEND) or after `CONNECT` (QFUPL). */
  readonly payload?: Uint8Array;
  /** Where {@link payload} goes. Default: `'prompt'`. */
  readonly payloadAfter?: 'prompt' | 'connect';
  /** A reply line `<prefix> <n>` announces n raw bytes (`+QSSLRECV:`, `+QIRD:`). */
  readonly dataPrefix?: string;
  /** The file follows `CONNECT` and ends at `<name>: <size>,<checksum>` (AT+QFDWL). */
  readonly download?: boolean;
  /**
   * A result that arrives as a URC after `OK` (`+QSSLOPEN: <id>,<err>`): the command resolves only when a line
   * starting with `prefix` came, within `timeoutMs` of the `OK`.
   */
  readonly lateResult?: { readonly prefix: string; readonly timeoutMs: number };
  /**
   * The reply is one line (`AT+CPIN?` → `+CPIN: READY`): an earlier line with the same prefix in the same reply was
   * a URC that came before it (a module finishing its boot prints `+CPIN: READY` on its own), and is delivered as
   * one. Default: false.
   */
  readonly single?: boolean;
  /**
   * Success is `CONNECT`, after which the port carries one connection's bytes (transparent mode, quectel-at.md
   * §5.2: `AT+QSSLOPEN=…,2`, `AT+QIOPEN=…,2`, `AT+QISWTMD=<id>,2`, `ATO`): the reply's `channel` reads and writes
   * them, and leaves data mode. Default: false.
   */
  readonly dataMode?: boolean;
  /**
   * Runs the moment the command's `OK` is read, before any byte after it is framed: a command that changes how the
   * bytes after it are read (`AT+QISWTMD=<id>,<0|1>` makes a connection's `+QSSLURC: "recv",<id>,<len>` a
   * notification or counted data again, quectel-at.md §5.1) takes effect there, not a microtask later when the
   * caller's promise resumes and the rest of that read was already framed. Not run on an error, a timeout, or an
   * `OK` that comes after the command gave up. Default: none.
   */
  readonly onOk?: () => void;
  /** On `ERROR`, ask `AT+QIGETERROR` for the number and text (TCP/IP and SSL commands). Default: false. */
  readonly qiErrorDetail?: boolean;
  /**
   * Texts inside the command line that traces, events and errors must not show (a password, a PSK). The
   * arguments the protocol knows to be secret (`AT+QICSGP`'s password, `AT+CPIN`'s PIN) are hidden without this.
   */
  readonly secrets?: readonly string[];
  /** The payload is key material: no trace shows its bytes, not even with `traceData`. Default: false. */
  readonly sensitive?: boolean;
  /** Cancels the command: queued, it never runs; in flight, it fails and the engine resynchronises. */
  readonly signal?: AbortSignal;
}

/** What a command answered. */
export interface AtReply {
  /** Information lines, in order, without the final result code. */
  readonly lines: readonly string[];
  /** The final result code: `OK`, `SEND OK`. */
  readonly final: string;
  /** Counted data (`+QSSLRECV:`) or the downloaded file; empty when none. */
  readonly data: Uint8Array;
  /** The late result line, for commands with {@link AtCommand.lateResult}. */
  readonly late?: string;
  /** The port in transparent data mode, for commands with {@link AtCommand.dataMode} that answered `CONNECT`. */
  readonly channel?: DataChannel;
}

export { AT_TIMEOUTS, timeoutFor } from './dialect.js';
