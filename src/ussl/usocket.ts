/**
 * `usocket`: QuecPython's socket module on the host (`modem.usocket`), with its constants and shapes.
 *
 * ```ts
 * const sock = modem.usocket.socket(modem.usocket.AF_INET, modem.usocket.SOCK_STREAM);
 * const addr = (await modem.usocket.getaddrinfo('myssl.com', 443))[0]![4];
 * await sock.connect(addr);
 * ```
 */
import { QuectelError } from '../errors.js';
import { errno, OSError, toOSError } from './OSError.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_TCP_SER, IPPROTO_UDP, SO_REUSEADDR, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, Socket,
  SOL_SOCKET, TCP_CUSTOMIZE_PORT, TCP_KEEPALIVE, type SocketAddress,
} from './Socket.js';
import type { UsslSession } from './UsslSession.js';

/** One `getaddrinfo` entry, as CPython and QuecPython give it: `[af, type, proto, canonname, [ip, port]]`. */
export type AddrInfo = [af: number, type: number, proto: number, canonname: string, address: SocketAddress];

export interface Usocket {
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly SOCK_RAW: number;
  readonly IPPROTO_TCP: number;
  readonly IPPROTO_UDP: number;
  readonly IPPROTO_TCP_SER: number;
  readonly TCP_CUSTOMIZE_PORT: number;
  readonly SOL_SOCKET: number;
  readonly SO_REUSEADDR: number;
  readonly TCP_KEEPALIVE: number;
  /**
   * A new TCP socket. Default: `AF_INET`, `SOCK_STREAM`, `IPPROTO_TCP`.
   * @throws OSError `EOPNOTSUPP` for UDP and raw sockets (this library drives TCP and TLS clients).
   */
  socket(af?: number, type?: number, proto?: number): Socket;
  /**
   * Resolves `host` with the module's DNS (an address needs no command) into
   * `[[AF_INET, SOCK_STREAM, IPPROTO_TCP, '', [ip, port]]]`.
   * @throws OSError `EAI_NONAME` (-2) when the name does not resolve; QuectelError `INVALID_ARGUMENT`.
   */
  getaddrinfo(host: string, port: number, af?: number, type?: number, proto?: number, flags?: number): Promise<AddrInfo[]>;
}

export function createUsocket(session: UsslSession): Usocket {
  return {
    AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_TCP_SER, TCP_CUSTOMIZE_PORT,
    SOL_SOCKET, SO_REUSEADDR, TCP_KEEPALIVE,
    socket(af = AF_INET, type = SOCK_STREAM, proto = IPPROTO_TCP): Socket {
      if (af !== AF_INET && af !== AF_INET6) throw new OSError(errno.EOPNOTSUPP, `address family ${af} is not supported`);
      if (type !== SOCK_STREAM) throw new OSError(errno.EOPNOTSUPP, `socket type ${type}: only SOCK_STREAM (TCP, and TLS through ussl) is supported`);
      if (proto !== IPPROTO_TCP && proto !== 0 && proto !== IPPROTO_TCP_SER) throw new OSError(errno.EOPNOTSUPP, `protocol ${proto} is not supported`);
      return new Socket(session, af, type, proto === 0 ? IPPROTO_TCP : proto);
    },
    async getaddrinfo(host: string, port: number): Promise<AddrInfo[]> {
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new QuectelError('INVALID_ARGUMENT', `port must be 0-65535, got ${String(port)}`);
      let addresses: string[];
      try {
        addresses = await session.modem.dns.resolve(host);
      } catch (e) {
        throw toOSError(e, `getaddrinfo ${host}`);
      }
      return addresses.map((ip) => [ip.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_TCP, '', [ip, port]]);
    },
  };
}
