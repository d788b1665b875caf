/** The transport layer: byte links to a module (serial device, TCP, run-time schemes such as the emulator). */
export type { SerialSignals, Transport, TransportCloseEvent, TransportCloseReason, TransportEvents, TransportFactory } from './Transport.js';
export { assertBaudRate, MAX_BAUD_RATE, parseTransportUrl } from './parseTransportUrl.js';
export type { ParsedRfc2217Url, ParsedSchemeUrl, ParsedSerialUrl, ParsedTcpUrl, ParsedTransportUrl, SerialUrlOptions } from './parseTransportUrl.js';
export { DEFAULT_BAUD_RATE, SerialPortTransport } from './SerialPortTransport.js';
export type { SerialPortTransportOptions } from './SerialPortTransport.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, TcpTransport } from './TcpTransport.js';
export type { TcpTransportOptions } from './TcpTransport.js';
export { Rfc2217Transport } from './Rfc2217Transport.js';
export type { Rfc2217TransportOptions } from './Rfc2217Transport.js';
export { knownTransportSchemes, openTransport, registerTransportScheme } from './openTransport.js';
export type { OpenTransportOptions, TransportSchemeOpener } from './openTransport.js';
