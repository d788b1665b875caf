/**
 * Opens a {@link Transport} from a URL: a serial device, `socket://host:port`, or a scheme some module registered
 * at run time (the emulator registers `emulator:`).
 */
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { QuectelError } from '../errors.js';
import { parseTransportUrl, type ParsedSchemeUrl } from './parseTransportUrl.js';
import { SerialPortTransport } from './SerialPortTransport.js';
import { Rfc2217Transport } from './Rfc2217Transport.js';
import { TcpTransport } from './TcpTransport.js';
import type { Transport } from './Transport.js';

/** Settings that override or complete what the URL says. */
export interface OpenTransportOptions {
  /** Line speed; wins over the URL's `?baud=`. Serial devices and registered schemes only. Default: the URL's, else 115200. */
  readonly baudRate?: number;
  /** Hardware flow control; wins over the URL's `?rtscts=`. Serial devices only. Default: the URL's, else false. */
  readonly rtscts?: boolean;
  /** The serialport binding for a serial device. Default: the native binding. */
  readonly binding?: BindingInterface;
  /** Connect timeout for `socket://`. Default: 10000. */
  readonly connectTimeoutMs?: number;
}

/** Opens a transport for a URL whose scheme was registered with {@link registerTransportScheme}. */
export type TransportSchemeOpener = (parsed: ParsedSchemeUrl, options: OpenTransportOptions) => Promise<Transport>;

/** Schemes {@link openTransport} handles itself; they cannot be registered. */
const BUILT_IN_SCHEMES: readonly string[] = ['socket', 'rfc2217'];
const SCHEME_NAME_RE = /^[a-z][a-z0-9+.-]+$/;
const openers = new Map<string, TransportSchemeOpener>();

/**
 * Makes {@link openTransport} hand URLs of `scheme` (`scheme:rest?query` or `scheme://rest?query`) to `opener`.
 * Registering the same opener again is harmless.
 * @param scheme Letters, digits, `+`, `-`, `.`; at least two characters; matched case-insensitively.
 * @returns a function that removes the registration (a no-op once another opener took the scheme).
 * @throws QuectelError `TRANSPORT_BAD_SCHEME` for a malformed or built-in scheme, or one another opener holds.
 */
export function registerTransportScheme(scheme: string, opener: TransportSchemeOpener): () => void {
  const name = scheme.toLowerCase();
  if (!SCHEME_NAME_RE.test(name)) {
    throw new QuectelError('TRANSPORT_BAD_SCHEME', `"${scheme}" is not a scheme name (letters, digits, + - .; two or more)`, { scheme });
  }
  if (BUILT_IN_SCHEMES.includes(name)) {
    throw new QuectelError('TRANSPORT_BAD_SCHEME', `"${name}:" is built in and cannot be registered`, { scheme: name });
  }
  const existing = openers.get(name);
  if (existing !== undefined && existing !== opener) {
    throw new QuectelError('TRANSPORT_BAD_SCHEME', `"${name}:" is already registered by another opener`, { scheme: name });
  }
  openers.set(name, opener);
  return () => {
    if (openers.get(name) === opener) openers.delete(name);
  };
}

/** The schemes {@link openTransport} accepts now, built-in and registered, sorted. */
export function knownTransportSchemes(): string[] {
  return [...BUILT_IN_SCHEMES, ...openers.keys()].sort();
}

/**
 * Opens the transport a URL names: `/dev/ttyUSB2?baud=921600`, `COM5`, `socket://host:port`,
 * `rfc2217://host:port?baud=115200`, `emulator:BG96`.
 * @throws QuectelError `TRANSPORT_BAD_URL` / `TRANSPORT_BAD_OPTION` for a malformed URL or option,
 *   `TRANSPORT_UNKNOWN_SCHEME` for a scheme nobody registered, and whatever the opener throws
 *   (`TRANSPORT_NOT_FOUND`, `TRANSPORT_BUSY`, `TRANSPORT_OPEN_FAILED`…).
 */
export async function openTransport(url: string, options: OpenTransportOptions = {}): Promise<Transport> {
  const parsed = parseTransportUrl(url);
  switch (parsed.kind) {
    case 'serial':
      return SerialPortTransport.open({
        path: parsed.path,
        url,
        baudRate: options.baudRate ?? parsed.options.baudRate,
        rtscts: options.rtscts ?? parsed.options.rtscts,
        binding: options.binding,
      });
    case 'tcp':
      // A raw TCP link has no line speed; baudRate and rtscts have nothing to act on here.
      return TcpTransport.open({ host: parsed.host, port: parsed.port, url, connectTimeoutMs: options.connectTimeoutMs });
    case 'rfc2217':
      return Rfc2217Transport.open({
        host: parsed.host, port: parsed.port, url, connectTimeoutMs: options.connectTimeoutMs,
        baudRate: options.baudRate ?? parsed.options.baudRate, rtscts: options.rtscts ?? parsed.options.rtscts,
      });
    case 'scheme': {
      const opener = openers.get(parsed.scheme);
      if (opener === undefined) {
        const known = knownTransportSchemes().map((s) => `${s}:`).join(', ');
        throw new QuectelError(
          'TRANSPORT_UNKNOWN_SCHEME',
          `unknown transport scheme "${parsed.scheme}:" in "${url}"; known schemes: ${known} (or give a device path)`,
          { url, scheme: parsed.scheme, known },
        );
      }
      return opener(parsed, options);
    }
  }
}
