/**
 * `ussl-bridge`: the library. The modem (a module brought up and kept up), the AT client, the transports and their
 * URL opener, with the `emulator:` scheme registered. The QuecPython-shaped `ussl` API follows.
 */
import { registerEmulatorScheme } from './emulatorScheme.js';

registerEmulatorScheme();

export { Modem } from './modem/Modem.js';
export type { ModemEvents, ModemTarget, SerialBindingSource } from './modem/Modem.js';
export type { ApnOptions, ModemOptions, ModuleInfo, UrcPort } from './modem/ModemOptions.js';
export { AtClient } from './at/index.js';
export type { AtClientOptions, AtReply, SendOptions, AtTraceEvent } from './at/index.js';
export { QuectelError, isQuectelError } from './errors.js';
export type { QuectelErrorCode, QuectelErrorContext } from './errors.js';
export {
  openTransport, registerTransportScheme, knownTransportSchemes, SerialPortTransport, TcpTransport, parseTransportUrl,
} from './transport/index.js';
export type { Transport, TransportCloseEvent, TransportCloseReason, TransportEvents, TransportFactory, OpenTransportOptions } from './transport/index.js';
export { quectelChecksum, formatChecksum, parseChecksum } from './protocol/checksum.js';
export { CIPHER_SUITES, ALL_CIPHER_SUITES, BG96_CIPHER_CODES, formatCipherCode, parseCipherCode, cipherSuiteByCode } from './protocol/cipherSuites.js';
export type { CipherSuite } from './protocol/cipherSuites.js';
