/**
 * A command as data (lessons.md §10.3): what to send, which reply lines belong to it, how long it may take, the
 * payload for its prompt or `CONNECT`, the counted data its reply carries, and a result that comes after `OK`.
 */

/** One command for the engine. */
export interface AtCommand {
  /** The command line without its CR, e.g. `AT+QSSLRECV=0,1500`. */
  readonly command: string;
  /**
   * Prefixes of the information lines this command answers with (`+QSSLRECV:`). A line with one of them is this
   * command's reply even where the same prefix can be a URC (`+CREG:`, `+QSSLOPEN:`). Default: none, and then any
   * line that is not a known URC counts as reply while the command is in flight.
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
  /** The file follows `CONNECT` and ends at `+QFDWL: <size>,<checksum>` (AT+QFDWL). */
  readonly download?: boolean;
  /**
   * A result that arrives as a URC after `OK` (`+QSSLOPEN: <id>,<err>`): the command resolves only when a line
   * starting with `prefix` came, within `timeoutMs` of the `OK`.
   */
  readonly lateResult?: { readonly prefix: string; readonly timeoutMs: number };
  /** On `ERROR`, ask `AT+QIGETERROR` for the number and text (TCP/IP and SSL commands). Default: false. */
  readonly qiErrorDetail?: boolean;
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
}

/**
 * Maximum response times from the Quectel manuals (quectel-at.md §3, §4.3, §7.1, §7.3), by command, for callers that
 * give none. Values are data, not code: the engine never switches on command names, and every value can be
 * replaced through the options.
 */
export const AT_TIMEOUTS: Readonly<Record<string, number>> = {
  default: 5_000,
  '+QIACT': 150_000,
  '+QIDEACT': 40_000,
  '+QIOPEN': 150_000,
  '+QSSLOPEN': 150_000,
  '+QICLOSE': 20_000,
  '+QSSLCLOSE': 20_000,
  '+QIDNSGIP': 60_000,
  '+QFUPL': 60_000,
  '+CFUN': 15_000,
  '+COPS': 180_000,
};

/** The timeout {@link AT_TIMEOUTS} (or an override table) gives a command line. */
export function timeoutFor(command: string, table: Readonly<Record<string, number>> = AT_TIMEOUTS): number {
  const name = /^AT(\+[A-Z0-9]+)/i.exec(command)?.[1]?.toUpperCase();
  return (name !== undefined ? table[name] : undefined) ?? table.default ?? AT_TIMEOUTS.default!;
}
