/**
 * The QuecPython-shaped API: `usocket`, `ussl`, the errors they raise, and Node streams over module connections.
 */
export { UsslModem, connectTls } from './UsslModem.js';
export type { ConnectTlsOptions } from './connectTls.js';
export { Socket } from './Socket.js';
export type { SocketAddress, SocketData } from './Socket.js';
export type { Usocket, AddrInfo } from './usocket.js';
export type { Ussl } from './ussl.js';
export type { WrapSocketOptions, TlsVersion } from './tlsOptions.js';
export { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED } from './tlsOptions.js';
export { OSError, isOSError, errno } from './OSError.js';
export { SocketStream } from './SocketStream.js';
