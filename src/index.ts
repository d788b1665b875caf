/**
 * `ussl-bridge`: the library. For now the transport layer and its URL opener, with the `emulator:` scheme
 * registered; the AT engine, the modem and the `ussl` API follow.
 */
import { registerEmulatorScheme } from './emulatorScheme.js';

registerEmulatorScheme();

export { QuectelError, isQuectelError } from './errors.js';
export type { QuectelErrorCode, QuectelErrorContext } from './errors.js';
export {
  openTransport, registerTransportScheme, knownTransportSchemes, SerialPortTransport, TcpTransport, parseTransportUrl,
} from './transport/index.js';
export type { Transport, TransportCloseEvent, TransportCloseReason, TransportEvents, TransportFactory, OpenTransportOptions } from './transport/index.js';
export { quectelChecksum, formatChecksum, parseChecksum } from './protocol/checksum.js';
export { CIPHER_SUITES, ALL_CIPHER_SUITES, BG96_CIPHER_CODES, formatCipherCode, parseCipherCode, cipherSuiteByCode } from './protocol/cipherSuites.js';
export type { CipherSuite } from './protocol/cipherSuites.js';
