/**
 * `connectTls(modem, options)`: a TLS connection through the module as a Node `Duplex`, handed out at once like
 * `tls.connect`'s socket (`'secureConnect'` when open). It plugs into `https.request({ createConnection })` and
 * mqtt.js's stream builder:
 *
 * ```ts
 * https.get({ host: 'example.com', createConnection: () => connectTls(modem, { host: 'example.com', port: 443 }) });
 * ```
 */
import type { Duplex } from 'node:stream';
import { QuectelError } from '../errors.js';
import { hostName } from '../modem/services/DnsService.js';
import { SocketStream } from './SocketStream.js';
import { planTls, type WrapSocketOptions } from './tlsOptions.js';
import type { UsslSession } from './UsslSession.js';

/** Where to connect, and the TLS options of `wrap_socket`. */
export interface ConnectTlsOptions extends WrapSocketOptions {
  /** The server: the address `AT+QSSLOPEN` gets (SNI and host check), unless `server_hostname` says otherwise. */
  readonly host: string;
  readonly port: number;
  readonly signal?: AbortSignal;
}

/**
 * Checks the options at once (bad ones throw before anything is sent) and returns the stream; the open goes on in
 * the background and a failure destroys the stream with an OSError.
 */
export function connectTlsStream(session: UsslSession, options: ConnectTlsOptions): Duplex {
  hostName(options.host);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
    throw new QuectelError('INVALID_ARGUMENT', `port must be 1-65535, got ${String(options.port)}`);
  }
  const plan = planTls(options, session.modem.info);
  const opening = session.openTls(plan, plan.serverHostname ?? options.host, options.port, options.signal).then((o) => o.connection);
  return new SocketStream(opening);
}
