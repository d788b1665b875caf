/**
 * `ussl-bridge`: the library. The `Modem` (a module brought up and kept up) with QuecPython's `usocket` and `ussl`
 * on it and Node streams through its TLS, the module services, the AT client, the transports and their URL opener,
 * with the `emulator:` scheme registered.
 */
import { registerEmulatorScheme } from './emulatorScheme.js';

registerEmulatorScheme();

export { UsslModem as Modem, connectTls } from './ussl/UsslModem.js';
export type { ModemEvents, ModemTarget, SerialBindingSource } from './modem/Modem.js';
export type { ApnOptions, ModemOptions, ModuleFamily, ModuleInfo, UrcPort } from './modem/ModemOptions.js';
export type { FileEntry, FileService, UploadOptions } from './modem/services/FileService.js';
export type { DnsService } from './modem/services/DnsService.js';
export type { ConnectionService, OpenConnectionOptions } from './modem/services/ConnectionService.js';
export type { Connection, ConnectionKind, ConnectionTuning, ReceiveMode } from './modem/services/Connection.js';
export type { SendRetryPolicy } from './modem/services/SendRetry.js';
export type { SslContextService, SslSettings } from './modem/services/SslContextService.js';
export {
  CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, OSError, isOSError, errno, Socket, SocketStream,
} from './ussl/index.js';
export type { AddrInfo, ConnectTlsOptions, SocketAddress, SocketData, TlsVersion, Usocket, Ussl, WrapSocketOptions } from './ussl/index.js';
export { AtClient } from './at/index.js';
export type { AtClientOptions, AtReply, SendOptions, AtTraceEvent, DataChannel, DataModeEnd } from './at/index.js';
export { QuectelError, isQuectelError } from './errors.js';
export type { QuectelErrorCode, QuectelErrorContext } from './errors.js';
export {
  openTransport, registerTransportScheme, knownTransportSchemes, SerialPortTransport, TcpTransport, parseTransportUrl,
} from './transport/index.js';
export type { Transport, TransportCloseEvent, TransportCloseReason, TransportEvents, TransportFactory, OpenTransportOptions } from './transport/index.js';
export { quectelChecksum, formatChecksum, parseChecksum } from './protocol/checksum.js';
export { CIPHER_SUITES, ALL_CIPHER_SUITES, BG96_CIPHER_CODES, formatCipherCode, parseCipherCode, cipherSuiteByCode } from './protocol/cipherSuites.js';
export type { CipherSuite } from './protocol/cipherSuites.js';
