/**
 * The exit codes scripts can rely on, and how an error becomes one. They are part of the command line's contract:
 * a number keeps its meaning between releases. The mapping reads the library's error codes (`isQuectelError`), never
 * message text.
 */
import { CommanderError } from 'commander';
import { isQuectelError, type QuectelErrorCode } from '../errors.js';

/** Exit codes of `ussl-bridge`. */
export const EXIT = {
  OK: 0,
  /** Anything not listed below: a bug, or a module answer nobody foresaw. */
  ERROR: 1,
  /** Bad arguments or options, a certificate file that does not parse, a value the module cannot be given. */
  USAGE: 2,
  /** The port cannot be opened, or the module does not answer or does not come up (SIM, registration, PDP). */
  MODULE: 3,
  /** The module cannot do it: no SSL AT commands (BC25), a cipher suite or TLS version its firmware lacks. */
  UNSUPPORTED: 4,
  /** DNS, TCP or TLS failed: refused, handshake rejected, reset, timed out. */
  CONNECTION: 5,
  /** A file on the module or the host: missing, unreadable, an upload whose size or checksum did not match. */
  FILE: 6,
  /** `get --fail`: the server answered with an HTTP status of 400 or more. */
  HTTP: 7,
  /** Ctrl-C (SIGINT). */
  INTERRUPTED: 130,
} as const;

/** The table `--help` and the README print. */
export const EXIT_CODES_HELP: readonly (readonly [number, string])[] = [
  [EXIT.OK, 'success'],
  [EXIT.ERROR, 'unexpected error'],
  [EXIT.USAGE, 'bad arguments (unknown option, bad URL, unreadable certificate)'],
  [EXIT.MODULE, 'module not reachable, not answering, or not coming up (SIM, network, PDP)'],
  [EXIT.UNSUPPORTED, 'not supported on this module (no SSL on BC25, cipher suite, TLS version)'],
  [EXIT.CONNECTION, 'DNS, TCP or TLS failure'],
  [EXIT.FILE, 'file missing, or size/checksum mismatch'],
  [EXIT.HTTP, 'HTTP status >= 400 with get --fail'],
  [EXIT.INTERRUPTED, 'interrupted (Ctrl-C)'],
];

/** A usage error found after parsing (a missing `--url`, an `http://` URL): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An HTTP status the caller asked to fail on (`get --fail`): exit code 7. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A transfer whose result does not check out (a download shorter than the listing): exit code 6. */
export class FileCheckError extends Error {
  override readonly name = 'FileCheckError';
}

const BY_CODE: Partial<Record<QuectelErrorCode, number>> = {
  TRANSPORT_BAD_URL: EXIT.USAGE,
  TRANSPORT_UNKNOWN_SCHEME: EXIT.USAGE,
  TRANSPORT_BAD_OPTION: EXIT.USAGE,
  EMULATOR_BAD_MODEL: EXIT.USAGE,
  INVALID_ARGUMENT: EXIT.USAGE,
  CERT_INVALID: EXIT.USAGE,
  URC_PORT_CONFLICT: EXIT.USAGE,
  TRANSPORT_NOT_FOUND: EXIT.MODULE,
  TRANSPORT_BUSY: EXIT.MODULE,
  TRANSPORT_OPEN_FAILED: EXIT.MODULE,
  TRANSPORT_CLOSED: EXIT.MODULE,
  TRANSPORT_WRITE_FAILED: EXIT.MODULE,
  AT_TIMEOUT: EXIT.MODULE,
  AT_NO_ANSWER: EXIT.MODULE,
  AT_MODULE_RESET: EXIT.MODULE,
  MODEM_NO_PORT: EXIT.MODULE,
  MODEM_NO_ANSWER: EXIT.MODULE,
  MODEM_SIM_MISSING: EXIT.MODULE,
  MODEM_SIM_PIN: EXIT.MODULE,
  MODEM_NOT_REGISTERED: EXIT.MODULE,
  MODEM_REGISTRATION_DENIED: EXIT.MODULE,
  MODEM_PDP_FAILED: EXIT.MODULE,
  MODEM_RESETTING: EXIT.MODULE,
  MODEM_PORT_LOST: EXIT.MODULE,
  MODEM_URC_PORT: EXIT.MODULE,
  MODEM_CLOSED: EXIT.MODULE,
  NOT_SUPPORTED: EXIT.UNSUPPORTED,
  CIPHER_UNSUPPORTED: EXIT.UNSUPPORTED,
  TLS_VERSION_UNSUPPORTED: EXIT.UNSUPPORTED,
  OS_ERROR: EXIT.CONNECTION,
  DNS_FAILED: EXIT.CONNECTION,
  SOCKET_OPEN_FAILED: EXIT.CONNECTION,
  SOCKET_IDS_EXHAUSTED: EXIT.CONNECTION,
  SOCKET_CLOSED: EXIT.CONNECTION,
  SOCKET_LOST: EXIT.CONNECTION,
  SEND_OUTCOME_UNKNOWN: EXIT.CONNECTION,
  SSL_CONTEXTS_BUSY: EXIT.CONNECTION,
  PORT_IN_USE: EXIT.CONNECTION,
  AT_DATA_MODE: EXIT.CONNECTION,
  AT_DATA_MODE_ENDED: EXIT.CONNECTION,
  FILE_UPLOAD_FAILED: EXIT.FILE,
  FILE_NOT_FOUND: EXIT.FILE,
};

/** Node's codes for a local file that cannot be read or written. */
const FILE_ERRNOS = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EPERM', 'EROFS', 'ENOSPC']);
/** Node's codes for a connection that failed under an HTTP request (the module's stream reports OSErrors). */
const NET_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'HPE_INVALID_CONSTANT', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The exit code for an error that ended a command. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError || e instanceof CommanderError) return EXIT.USAGE;
  if (e instanceof HttpStatusError) return EXIT.HTTP;
  if (e instanceof FileCheckError) return EXIT.FILE;
  // A library error wrapped by Node's stream or http machinery keeps its cause.
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (isQuectelError(cur)) return BY_CODE[cur.code] ?? EXIT.ERROR;
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (FILE_ERRNOS.has(code) && typeof (e as { path?: unknown }).path === 'string') return EXIT.FILE;
    if (NET_ERRNOS.has(code) || code.startsWith('HPE_')) return EXIT.CONNECTION;
  }
  return EXIT.ERROR;
}

/** One line for stderr: the message, and the library's code where there is one. */
export function describeError(e: unknown): { readonly message: string; readonly code: string | undefined } {
  const message = e instanceof Error ? e.message : String(e);
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (isQuectelError(cur)) return { message, code: cur.code };
  }
  const code = (e as { code?: unknown } | null)?.code;
  return { message, code: typeof code === 'string' && !(e instanceof CommanderError) ? code : undefined };
}
