/**
 * `ussl-bridge/quecpython`: module-level `usocket` and `ussl`, for scripts ported from QuecPython line by line
 * (adding `await`). They act on the module {@link attach} opened; without a call to it the first use opens the one
 * the `USSL_PORT` environment variable names (`/dev/ttyUSB2?baud=115200`, `emulator:EC25?hosts=…`).
 *
 * ```ts
 * import { attach, detach, usocket, ussl } from 'ussl-bridge/quecpython';
 * await attach('emulator:EC25?hosts=myssl.com=127.0.0.1:8443');
 * const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
 * await sock.connect((await usocket.getaddrinfo('myssl.com', 443))[0]![4]);
 * const tls = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com' });
 * await detach();
 * ```
 */
import { registerEmulatorScheme } from './emulatorScheme.js';
import { QuectelError } from './errors.js';
import type { ModemTarget } from './modem/Modem.js';
import type { ModemOptions } from './modem/ModemOptions.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_TCP_SER, IPPROTO_UDP, SO_REUSEADDR, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM,
  SOL_SOCKET, TCP_CUSTOMIZE_PORT, TCP_KEEPALIVE, type Socket,
} from './ussl/Socket.js';
import { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, type WrapSocketOptions } from './ussl/tlsOptions.js';
import type { AddrInfo, Usocket } from './ussl/usocket.js';
import type { Ussl } from './ussl/ussl.js';
import { UsslModem } from './ussl/UsslModem.js';

registerEmulatorScheme();

let current: Promise<UsslModem> | undefined;
/** The attached module once it is open, for the synchronous `usocket.socket`. */
let settled: UsslModem | undefined;

/**
 * Opens the module the API acts on (closing one attached before). Resolves once it is ready. The module counts as
 * attached from the call on, so calls made meanwhile (two first uses at once) wait for this one, not open another.
 */
export function attach(target: ModemTarget, options: ModemOptions = {}): Promise<UsslModem> {
  const previous = current;
  settled = undefined;
  const opened = async (): Promise<UsslModem> => {
    await closeQuietly(previous);
    const m = await UsslModem.open(target, options);
    if (current === opening) settled = m;
    return m;
  };
  const opening = opened();
  current = opening;
  opening.catch(() => {
    if (current === opening) current = undefined;
  });
  return opening;
}

/** Closes the attached module, so the process can end. */
export async function detach(): Promise<void> {
  const m = current;
  current = undefined;
  settled = undefined;
  await closeQuietly(m);
}

async function closeQuietly(m: Promise<UsslModem> | undefined): Promise<void> {
  await (await m?.catch(() => undefined))?.close();
}

/** The attached module, opening `USSL_PORT` on first use. */
export function modem(): Promise<UsslModem> {
  if (current) return current;
  const port = process.env.USSL_PORT;
  if (!port) return Promise.reject(new QuectelError('MODEM_NO_PORT', 'no module attached: call attach(url) or set USSL_PORT'));
  return attach(port, process.env.USSL_APN ? { apn: { apn: process.env.USSL_APN } } : {});
}

/** QuecPython's `usocket`: `socket()` is synchronous there and here, so it needs an attached module first. */
export const usocket = {
  AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_TCP_SER, TCP_CUSTOMIZE_PORT,
  SOL_SOCKET, SO_REUSEADDR, TCP_KEEPALIVE,
  socket(af?: number, type?: number, proto?: number): Socket {
    return attachedNow('usocket.socket').usocket.socket(af, type, proto);
  },
  async getaddrinfo(host: string, port: number): Promise<AddrInfo[]> {
    return (await modem()).usocket.getaddrinfo(host, port);
  },
} satisfies Usocket;

/** QuecPython's `ussl`. */
export const ussl = {
  CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED,
  async wrap_socket(sock: Socket, options?: WrapSocketOptions): Promise<Socket> {
    return (await modem()).ussl.wrap_socket(sock, options);
  },
  async uploaded(): ReturnType<Ussl['uploaded']> {
    return (await modem()).ussl.uploaded();
  },
  async remove_uploaded(): Promise<string[]> {
    return (await modem()).ussl.remove_uploaded();
  },
} satisfies Ussl;

/** The attached module, which must be open already (for the synchronous `usocket.socket`). */
function attachedNow(what: string): UsslModem {
  if (!settled) throw new QuectelError('MODEM_NO_PORT', `${what}: no module attached yet; await attach(url) (or modem()) first`);
  return settled;
}
