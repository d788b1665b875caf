/**
 * `ussl`: QuecPython's TLS module on the host (`modem.ussl`). `wrap_socket(sock, { server_hostname, cert, key })`
 * as the seed documents it, and what MicroPython and CPython users expect (`cadata`, `cert_reqs`, `ciphers`,
 * version bounds), carried out by the module's SSL stack (quectel-at.md §2–§5).
 *
 * - A socket not yet connected comes back as a TLS socket: its `connect` opens with `AT+QSSLOPEN` directly.
 * - A connected socket is closed and the same peer opened again through TLS: the module cannot put TLS on an open
 *   TCP connection. `server_hostname`, when given, is the address `AT+QSSLOPEN` gets, so SNI and the host check
 *   use it.
 */
import { QuectelError } from '../errors.js';
import { errno, OSError } from './OSError.js';
import { Socket } from './Socket.js';
import { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, planTls, type WrapSocketOptions } from './tlsOptions.js';
import type { UsslSession } from './UsslSession.js';

export interface Ussl {
  readonly CERT_NONE: number;
  readonly CERT_OPTIONAL: number;
  readonly CERT_REQUIRED: number;
  /**
   * Wraps `sock` in TLS; see the module notes. Everything is checked before any command is sent.
   * @throws QuectelError `NOT_SUPPORTED` ("ussl is not supported on BC25"), `INVALID_ARGUMENT` (wrapping twice, a
   *   bad host), `CERT_INVALID`, `CIPHER_UNSUPPORTED`, `TLS_VERSION_UNSUPPORTED`; OSError for a failed open.
   */
  wrap_socket(sock: Socket, options?: WrapSocketOptions): Promise<Socket>;
  /** The certificate and key files this library uploaded to the module. */
  uploaded(): Promise<Array<{ readonly name: string; readonly size: number }>>;
  /** Deletes them; returns their names. */
  remove_uploaded(): Promise<string[]>;
}

export function createUssl(session: UsslSession): Ussl {
  return {
    CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED,
    async wrap_socket(sock: Socket, options: WrapSocketOptions = {}): Promise<Socket> {
      if (!(sock instanceof Socket)) throw new QuectelError('INVALID_ARGUMENT', 'wrap_socket takes a socket made by usocket.socket()');
      if (sock.tls) throw new QuectelError('INVALID_ARGUMENT', 'the socket is already wrapped in TLS');
      if (sock.status === 'closed' || sock.status === 'detached') throw new OSError(errno.EBADF, 'wrap_socket on a closed socket');
      const plan = planTls(options, session.modem.info);
      sock.claim(); // before the first await: a second wrap of the same socket is refused, not run beside this one
      await sock.settled();
      const timeout = sock.gettimeout();
      const { peer, connection, state } = sock.detach();
      const wrapped = new Socket(session, sock.family, sock.type, sock.proto, plan);
      if (state === 'connected' && peer) {
        // No TLS on an open TCP connection (§2.5): close it and open the same peer through TLS, within the socket's
        // timeout (a non-blocking socket's wrap waits for the handshake, as MicroPython's does).
        await connection?.close('graceful');
        wrapped.settimeout(timeout === 0 ? null : timeout);
        await wrapped.connect(peer);
      }
      wrapped.settimeout(timeout); // the wrapped socket keeps the timeout (or non-blocking mode) set before
      return wrapped;
    },
    uploaded: () => session.uploaded(),
    remove_uploaded: () => session.removeUploaded(),
  };
}
