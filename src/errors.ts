/**
 * Every error this library throws is a {@link QuectelError}; its `code` says what went wrong and never changes
 * between releases, so callers and tests switch on codes, never on message text.
 */
export type QuectelErrorCode =
  // transport
  | 'TRANSPORT_BAD_URL'
  | 'TRANSPORT_UNKNOWN_SCHEME'
  | 'TRANSPORT_BAD_SCHEME'
  | 'TRANSPORT_NOT_FOUND'
  | 'TRANSPORT_BUSY'
  | 'TRANSPORT_BAD_OPTION'
  | 'TRANSPORT_OPEN_FAILED'
  | 'TRANSPORT_CLOSED'
  | 'TRANSPORT_WRITE_FAILED'
  // AT engine
  | 'AT_TIMEOUT'
  | 'AT_ERROR'
  | 'AT_CME_ERROR'
  | 'AT_SEND_FAIL'
  | 'AT_MODULE_RESET'
  | 'AT_ABORTED'
  | 'AT_NO_ANSWER'
  | 'AT_BAD_REPLY'
  /** The port is in transparent data mode: it carries one connection's bytes and takes no command. */
  | 'AT_DATA_MODE'
  /** Bytes for a transparent data mode that has ended (NO CARRIER, an escape, a restart). */
  | 'AT_DATA_MODE_ENDED'
  // the connection machine
  | 'MODEM_NO_PORT'
  | 'MODEM_NO_ANSWER'
  | 'MODEM_SIM_MISSING'
  | 'MODEM_SIM_PIN'
  | 'MODEM_NOT_REGISTERED'
  | 'MODEM_REGISTRATION_DENIED'
  | 'MODEM_PDP_FAILED'
  | 'MODEM_RESETTING'
  | 'MODEM_PORT_LOST'
  | 'MODEM_URC_PORT'
  | 'MODEM_CLOSED'
  // module services: files, DNS, connections, SSL contexts
  | 'NOT_SUPPORTED'
  | 'FILE_UPLOAD_FAILED'
  | 'FILE_NOT_FOUND'
  | 'DNS_FAILED'
  | 'SOCKET_OPEN_FAILED'
  | 'SOCKET_IDS_EXHAUSTED'
  | 'SOCKET_CLOSED'
  | 'SOCKET_LOST'
  | 'SEND_OUTCOME_UNKNOWN'
  | 'SSL_CONTEXTS_BUSY'
  /** Transparent mode needs the port to itself: other connections are open on it. */
  | 'PORT_IN_USE'
  /** Transparent mode would lose URCs: they go to the port it takes over, and nowhere else was named. */
  | 'URC_PORT_CONFLICT'
  /** A warning, never thrown: the module refused to pause push mode (`AT+QISWTMD`), so a slow reader is unbounded. */
  | 'FLOW_CONTROL_UNAVAILABLE'
  // the QuecPython-shaped API
  | 'CERT_INVALID'
  | 'CIPHER_UNSUPPORTED'
  | 'TLS_VERSION_UNSUPPORTED'
  | 'OS_ERROR'
  // values that would end up inside an AT command
  | 'INVALID_ARGUMENT'
  // emulator
  | 'EMULATOR_BAD_MODEL'
  | 'EMULATOR_SERVE_FAILED'
  // scripted port (tests)
  | 'SCRIPT_MISMATCH'
  | 'SCRIPT_INCOMPLETE';

/** Extra facts about an error: the command, the URL, the raw lines. Never key material or payload bytes. */
export type QuectelErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export class QuectelError extends Error {
  override readonly name: string = 'QuectelError';
  constructor(
    readonly code: QuectelErrorCode,
    message: string,
    readonly context: QuectelErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is a {@link QuectelError}, and when `code` is given, one with that code. */
export function isQuectelError(e: unknown, code?: QuectelErrorCode): e is QuectelError {
  return e instanceof QuectelError && (code === undefined || e.code === code);
}
