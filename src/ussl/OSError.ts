/**
 * QuecPython's socket errors: `OSError` with an `errno`, as usocket and ussl raise them on the module (MicroPython's
 * errno values, which are Linux's). The services below throw {@link QuectelError}s with their own codes; this is the
 * one place that turns them into what a ported script expects (style.md §6: translate at the boundary).
 */
import { isQuectelError, QuectelError, type QuectelErrorCode } from '../errors.js';

/** The errno values this API raises (MicroPython `uerrno`, Linux numbering). */
export const errno = {
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ENETDOWN: 100,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EALREADY: 114,
  EINPROGRESS: 115,
  /** `getaddrinfo`'s "Name or service not known" (CPython's `socket.gaierror`). */
  EAI_NONAME: -2,
} as const;

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(errno).map(([k, v]) => [v, k]));

/**
 * An error with an `errno`, like Python's `OSError`: `e.errno === 110` for a timeout. Its `code` is `OS_ERROR`;
 * `args` is `[errno, message]` as Python prints it.
 */
export class OSError extends QuectelError {
  override readonly name: string = 'OSError';
  readonly args: readonly [number, string];

  constructor(readonly errno: number, message: string, options?: { cause?: unknown; context?: Record<string, string | number | boolean | undefined> }) {
    super('OS_ERROR', `[Errno ${errno}] ${NAMES[errno] ?? ''}: ${message}`, { errno, ...options?.context }, options?.cause === undefined ? undefined : { cause: options.cause });
    this.args = [errno, message];
  }
}

/** True for an {@link OSError}, and with `n`, one with that errno. */
export function isOSError(e: unknown, n?: number): e is OSError {
  return e instanceof OSError && (n === undefined || e.errno === n);
}

/** The errno for a module's `+QSSLOPEN`/`+QIOPEN` error number (quectel-at.md §7.4). */
function openErrno(moduleError: number | undefined, tls: boolean): number {
  switch (moduleError) {
    case 565: return errno.EAI_NONAME;
    // 566: "socket connect failed", and every TLS handshake or certificate failure (T15).
    case 566: return tls ? errno.ECONNABORTED : errno.ECONNREFUSED;
    case 569: return errno.ETIMEDOUT;
    case 552: return errno.EINVAL;
    case 553: return errno.ENOMEM;
    case 554: return errno.EMFILE;
    case 563: case 574: return errno.EADDRINUSE;
    case 561: case 570: case 572: case 573: return errno.ENETDOWN;
    default: return errno.EIO;
  }
}

/** The errno of every other failure below the API, by code: a ported script catches `OSError` and nothing else. */
const ERRNO_BY_CODE: Partial<Readonly<Record<QuectelErrorCode, number>>> = {
  DNS_FAILED: errno.EAI_NONAME,
  SOCKET_LOST: errno.ECONNRESET,
  SEND_OUTCOME_UNKNOWN: errno.EIO,
  SOCKET_IDS_EXHAUSTED: errno.EMFILE,
  SSL_CONTEXTS_BUSY: errno.EMFILE,
  PORT_IN_USE: errno.EBUSY,
  AT_DATA_MODE: errno.EBUSY,
  AT_DATA_MODE_ENDED: errno.EPIPE,
  AT_TIMEOUT: errno.ETIMEDOUT,
  MODEM_NO_ANSWER: errno.ETIMEDOUT,
  AT_MODULE_RESET: errno.ECONNRESET,
  MODEM_RESETTING: errno.ECONNRESET,
  MODEM_PORT_LOST: errno.ECONNRESET,
  AT_ERROR: errno.EIO,
  AT_CME_ERROR: errno.EIO,
  AT_SEND_FAIL: errno.EIO,
  AT_ABORTED: errno.EIO,
  AT_NO_ANSWER: errno.EIO,
  AT_BAD_REPLY: errno.EIO,
  FILE_UPLOAD_FAILED: errno.EIO,
  FILE_NOT_FOUND: errno.EIO,
  MODEM_SIM_MISSING: errno.ENETDOWN,
  MODEM_SIM_PIN: errno.ENETDOWN,
  MODEM_NOT_REGISTERED: errno.ENETDOWN,
  MODEM_REGISTRATION_DENIED: errno.ENETDOWN,
  MODEM_PDP_FAILED: errno.ENETDOWN,
  MODEM_URC_PORT: errno.ENODEV,
  MODEM_NO_PORT: errno.ENODEV,
  MODEM_CLOSED: errno.ENODEV,
  TRANSPORT_CLOSED: errno.ENODEV,
  TRANSPORT_WRITE_FAILED: errno.ENODEV,
  TRANSPORT_OPEN_FAILED: errno.ENODEV,
  TRANSPORT_NOT_FOUND: errno.ENODEV,
  TRANSPORT_BUSY: errno.ENODEV,
};

/**
 * The OSError a ported script gets for a failure of the layers below. Errors that are not socket errors in Python
 * stay as they are: bad arguments (`INVALID_ARGUMENT`), certificates (`CERT_INVALID`), what the module cannot do
 * (`NOT_SUPPORTED`, `CIPHER_UNSUPPORTED`, `TLS_VERSION_UNSUPPORTED`), a modem set up without a place for URCs while
 * a transparent connection holds its port (`URC_PORT_CONFLICT`).
 */
export function toOSError(e: unknown, what: string, tls = false): unknown {
  if (!isQuectelError(e) || e instanceof OSError) return e;
  const cause = { cause: e };
  const module = typeof e.context.moduleError === 'number' ? e.context.moduleError : undefined;
  switch (e.code) {
    case 'SOCKET_OPEN_FAILED':
      return new OSError(openErrno(module, tls), `${what}: ${e.message}`, { ...cause, context: { moduleError: module } });
    case 'SOCKET_CLOSED': return new OSError(e.context.reason === 'peer' ? errno.EPIPE : errno.ECONNRESET, `${what}: ${e.message}`, cause);
    default: {
      const n = ERRNO_BY_CODE[e.code];
      return n === undefined ? e : new OSError(n, `${what}: ${e.message}`, cause);
    }
  }
}
