/**
 * Transport URLs, read the way pyserial's `serial_for_url` reads them:
 *
 *   /dev/ttyUSB2?baud=921600&rtscts=1   a serial device (also COM5, \\.\COM12, ./link)
 *   socket://host:port                   raw TCP to a serial server such as ser2net
 *   rfc2217://host:port?baud=115200      a serial server's telnet mode (RFC 2217): line settings on the far port
 *   emulator:BG96?baud=115200            a scheme registered at run time
 *
 * Parsing is pure: whether a scheme is registered is decided when the transport is opened.
 */
import { isIPv6 } from 'node:net';
import { QuectelError } from '../errors.js';

/** Line settings a serial URL may carry in its query. */
export interface SerialUrlOptions {
  /** Line speed from `?baud=`. Default: absent (the opener uses 115200). */
  readonly baudRate?: number;
  /** Hardware flow control from `?rtscts=`. Default: absent (off). */
  readonly rtscts?: boolean;
}

/** A local serial device: `/dev/ttyUSB2`, `COM5`, `./link`. */
export interface ParsedSerialUrl {
  readonly kind: 'serial';
  readonly url: string;
  readonly path: string;
  readonly options: SerialUrlOptions;
}

/** A raw TCP link to a serial server: `socket://host:port`. */
export interface ParsedTcpUrl {
  readonly kind: 'tcp';
  readonly url: string;
  /** Host name or address; IPv6 without its brackets. */
  readonly host: string;
  readonly port: number;
}

/** A serial port on a server speaking RFC 2217 (ser2net's `telnet(rfc2217)`): `rfc2217://host:port?baud=…`. */
export interface ParsedRfc2217Url {
  readonly kind: 'rfc2217';
  readonly url: string;
  /** Host name or address; IPv6 without its brackets. */
  readonly host: string;
  readonly port: number;
  /** Line settings for the far port. */
  readonly options: SerialUrlOptions;
}

/** `SCHEME:rest?query` for a scheme that some opener registered at run time. */
export interface ParsedSchemeUrl {
  readonly kind: 'scheme';
  readonly url: string;
  /** The scheme, lower-cased. */
  readonly scheme: string;
  /** What follows `SCHEME:` (or `SCHEME://`) up to the query, e.g. `BG96`. */
  readonly rest: string;
  /** The query, undecoded beyond percent-escapes; the scheme's opener validates it. */
  readonly params: ReadonlyMap<string, string>;
}

/** What {@link parseTransportUrl} makes of a URL; switch on `kind`. */
export type ParsedTransportUrl = ParsedSerialUrl | ParsedTcpUrl | ParsedRfc2217Url | ParsedSchemeUrl;

/** Highest line speed accepted; Quectel modules top out at 3–4 Mbit/s on their main UART. */
export const MAX_BAUD_RATE = 4_000_000;

/**
 * Checks a line speed: a positive integer no greater than {@link MAX_BAUD_RATE}.
 * Non-standard rates are allowed because Linux and Windows set custom rates.
 * @returns the same rate.
 * @throws QuectelError `TRANSPORT_BAD_OPTION` when the rate is not such an integer.
 */
export function assertBaudRate(baudRate: number): number {
  if (!Number.isSafeInteger(baudRate) || baudRate <= 0 || baudRate > MAX_BAUD_RATE) {
    throw new QuectelError(
      'TRANSPORT_BAD_OPTION',
      `baud rate must be an integer from 1 to ${MAX_BAUD_RATE}, got ${String(baudRate)}`,
      { option: 'baud', value: String(baudRate) },
    );
  }
  return baudRate;
}

// At least two characters, so a Windows drive letter (`C:\dev`) is never mistaken for a scheme.
const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]+):(.*)$/s;
// `COM5:` is how some Windows tools spell a port; it is a device, not a scheme.
const WINDOWS_COM_RE = /^COM\d+:?$/i;
const HOST_NAME_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses a transport URL into a device path, a TCP endpoint or a run-time scheme.
 * @throws QuectelError `TRANSPORT_BAD_URL` for an empty string or a malformed `socket://` address;
 *   `TRANSPORT_BAD_OPTION` for an unknown, repeated or invalid query option on a device or socket URL.
 */
export function parseTransportUrl(url: string): ParsedTransportUrl {
  if (url.trim() === '') {
    throw new QuectelError('TRANSPORT_BAD_URL', 'transport URL is empty', { url });
  }
  const [head, query] = splitQuery(url);
  const schemeMatch = WINDOWS_COM_RE.test(head) ? null : SCHEME_RE.exec(head);
  if (schemeMatch === null) {
    return parseSerial(url, head, query);
  }
  const scheme = schemeMatch[1].toLowerCase();
  const afterColon = schemeMatch[2];
  if (scheme === 'socket') {
    for (const [name] of parseQuery(url, query ?? '')) throw unknownOption(url, name, []);
    return { kind: 'tcp', url, ...parseAuthority(url, afterColon, 'socket') };
  }
  if (scheme === 'rfc2217') {
    return { kind: 'rfc2217', url, ...parseAuthority(url, afterColon, 'rfc2217'), options: lineOptions(url, query) };
  }
  // `emulator://BG96` and `emulator:BG96` name the same thing.
  const rest = afterColon.startsWith('//') ? afterColon.slice(2) : afterColon;
  return { kind: 'scheme', url, scheme, rest, params: parseQuery(url, query ?? '') };
}

function splitQuery(url: string): [head: string, query: string | undefined] {
  const at = url.indexOf('?');
  return at < 0 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

function parseSerial(url: string, path: string, query: string | undefined): ParsedSerialUrl {
  if (path.trim() === '') {
    throw new QuectelError('TRANSPORT_BAD_URL', `transport URL "${url}" has no device path`, { url });
  }
  const devicePath = WINDOWS_COM_RE.test(path) ? path.replace(/:$/, '') : path;
  return { kind: 'serial', url, path: devicePath, options: lineOptions(url, query) };
}

/** `?baud=…&rtscts=…`, the line settings of a device or an RFC 2217 port. */
function lineOptions(url: string, query: string | undefined): SerialUrlOptions {
  const options: { baudRate?: number; rtscts?: boolean } = {};
  for (const [name, value] of parseQuery(url, query ?? '')) {
    switch (name) {
      case 'baud':
        options.baudRate = parseBaudOption(url, value);
        break;
      case 'rtscts':
        options.rtscts = parseFlagOption(url, name, value);
        break;
      default:
        throw unknownOption(url, name, ['baud', 'rtscts']);
    }
  }
  return options;
}

/** `//host:port` after `socket:` or `rfc2217:`. */
function parseAuthority(url: string, afterColon: string, scheme: string): { host: string; port: number } {
  if (!afterColon.startsWith('//')) {
    throw badUrl(url, `write ${scheme}://host:port`);
  }
  const authority = afterColon.slice(2).replace(/\/$/, '');
  let host: string;
  let portText: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close < 0 ? '' : authority.slice(1, close);
    if (close < 0 || !isIPv6(host) || authority[close + 1] !== ':') {
      throw badUrl(url, 'an IPv6 host is written [addr]:port');
    }
    portText = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon < 0) {
      throw badUrl(url, 'the port is missing');
    }
    host = authority.slice(0, colon);
    portText = authority.slice(colon + 1);
    if (host === '') {
      throw badUrl(url, 'the host is missing');
    }
    if (!HOST_NAME_RE.test(host)) {
      throw badUrl(url, `"${host}" is not a host name (IPv6 addresses go in brackets)`);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw badUrl(url, `port must be 1-65535, got "${portText}"`);
  }
  return { host, port };
}

function parseQuery(url: string, query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(url, eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(url, part.slice(eq + 1));
    // A repeated option would silently lose one of its values.
    if (params.has(name)) {
      throw new QuectelError('TRANSPORT_BAD_OPTION', `option "${name}" is given twice in "${url}"`, {
        url,
        option: name,
      });
    }
    params.set(name, value);
  }
  return params;
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (e) {
    throw new QuectelError('TRANSPORT_BAD_URL', `bad percent-escape in "${url}"`, { url }, { cause: e });
  }
}

function parseBaudOption(url: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new QuectelError('TRANSPORT_BAD_OPTION', `baud must be a positive integer, got "${value}" in "${url}"`, {
      url,
      option: 'baud',
      value,
    });
  }
  return assertBaudRate(Number(value));
}

function parseFlagOption(url: string, name: string, value: string): boolean {
  switch (value.toLowerCase()) {
    case '1':
    case 'true':
      return true;
    case '0':
    case 'false':
      return false;
    default:
      throw new QuectelError('TRANSPORT_BAD_OPTION', `${name} must be 0, 1, true or false, got "${value}" in "${url}"`, {
        url,
        option: name,
        value,
      });
  }
}

function unknownOption(url: string, name: string, known: readonly string[]): QuectelError {
  const allowed = known.length === 0 ? 'this URL takes no options' : `known options: ${known.join(', ')}`;
  return new QuectelError('TRANSPORT_BAD_OPTION', `unknown option "${name}" in "${url}" (${allowed})`, {
    url,
    option: name,
  });
}

function badUrl(url: string, why: string): QuectelError {
  return new QuectelError('TRANSPORT_BAD_URL', `bad transport URL "${url}": ${why}`, { url });
}
