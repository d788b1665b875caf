/**
 * The `Modem` users get from `ussl-bridge`: the module brought up and kept up (src/modem), with QuecPython's
 * `usocket` and `ussl` on it and `connectTls` for Node programs.
 *
 * ```ts
 * const modem = await Modem.open('emulator:EC25?hosts=myssl.com=127.0.0.1:8443');
 * const sock = modem.usocket.socket();
 * await sock.connect(['myssl.com', 443]);
 * const tls = await modem.ussl.wrap_socket(sock, { server_hostname: 'myssl.com' });
 * ```
 */
import type { Duplex } from 'node:stream';
import { Modem as CoreModem, type ModemTarget } from '../modem/Modem.js';
import type { ModemOptions } from '../modem/ModemOptions.js';
import { connectTlsStream, type ConnectTlsOptions } from './connectTls.js';
import { createUsocket, type Usocket } from './usocket.js';
import { createUssl, type Ussl } from './ussl.js';
import { UsslSession } from './UsslSession.js';

export class UsslModem extends CoreModem {
  private readonly session = new UsslSession(this);
  /** QuecPython's `usocket`, bound to this module. */
  readonly usocket: Usocket = createUsocket(this.session);
  /** QuecPython's `ussl`, bound to this module. */
  readonly ussl: Ussl = createUssl(this.session);

  /**
   * Opens the module and resolves once it is ready; see the core `Modem.open` for the errors.
   */
  static override async open(target: ModemTarget, options: ModemOptions = {}): Promise<UsslModem> {
    CoreModem.validate(options);
    return CoreModem.started(new UsslModem(target, options));
  }

  /** A TLS connection through the module as a Node `Duplex`, handed out at once (see `connectTls`). */
  connectTls(options: ConnectTlsOptions): Duplex {
    return connectTlsStream(this.session, options);
  }
}

/** `connectTls(modem, options)`: the same as `modem.connectTls(options)`. */
export function connectTls(modem: UsslModem, options: ConnectTlsOptions): Duplex {
  return modem.connectTls(options);
}
