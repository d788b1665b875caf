import { describe, expect, test } from 'vitest';
import { isQuectelError, type QuectelErrorCode } from '../errors.js';
import { assertBaudRate, MAX_BAUD_RATE, parseTransportUrl, type SerialUrlOptions } from './parseTransportUrl.js';

function serialOptions(url: string): SerialUrlOptions {
  const parsed = parseTransportUrl(url);
  if (parsed.kind !== 'serial') throw new Error(`${url} parsed as ${parsed.kind}`);
  return parsed.options;
}

function codeOf(run: () => unknown): QuectelErrorCode | 'no error' | 'not a QuectelError' {
  try {
    run();
    return 'no error';
  } catch (e) {
    return isQuectelError(e) ? e.code : 'not a QuectelError';
  }
}

describe('parseTransportUrl reads device paths', () => {
  test.each([
    ['/dev/ttyUSB2', '/dev/ttyUSB2'],
    ['/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0', '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0'],
    ['./link', './link'],
    ['ttyUSB0', 'ttyUSB0'],
    ['COM5', 'COM5'],
    ['com12', 'com12'],
    ['COM5:', 'COM5'],
    ['\\\\.\\COM12', '\\\\.\\COM12'],
    ['C:\\dev\\port', 'C:\\dev\\port'],
  ])('%s is the device %s with no options', (url, path) => {
    expect(parseTransportUrl(url)).toEqual({ kind: 'serial', url, path, options: {} });
  });

  test('takes baud and rtscts from the query', () => {
    expect(parseTransportUrl('/dev/ttyUSB2?baud=921600&rtscts=1')).toEqual({
      kind: 'serial',
      url: '/dev/ttyUSB2?baud=921600&rtscts=1',
      path: '/dev/ttyUSB2',
      options: { baudRate: 921600, rtscts: true },
    });
    expect(serialOptions('COM5?rtscts=false')).toEqual({ rtscts: false });
    expect(serialOptions('COM5?rtscts=TRUE')).toEqual({ rtscts: true });
  });

  test.each([
    ['/dev/ttyUSB2?baud=abc', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=0', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=-9600', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=115200.5', 'TRANSPORT_BAD_OPTION'],
    [`/dev/ttyUSB2?baud=${MAX_BAUD_RATE + 1}`, 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=9600&baud=115200', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?rtscts=yes', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?parity=even', 'TRANSPORT_BAD_OPTION'],
    ['/dev/ttyUSB2?baud=%zz', 'TRANSPORT_BAD_URL'],
    ['', 'TRANSPORT_BAD_URL'],
    ['   ', 'TRANSPORT_BAD_URL'],
    ['?baud=9600', 'TRANSPORT_BAD_URL'],
  ])('rejects %j with %s', (url, code) => {
    expect(codeOf(() => parseTransportUrl(url))).toBe(code);
  });

  test('accepts the highest baud rate and non-standard rates', () => {
    expect(serialOptions(`COM5?baud=${MAX_BAUD_RATE}`)).toEqual({ baudRate: MAX_BAUD_RATE });
    expect(serialOptions('COM5?baud=250000')).toEqual({ baudRate: 250000 });
  });
});

describe('parseTransportUrl reads socket:// addresses', () => {
  test.each([
    ['socket://127.0.0.1:5000', '127.0.0.1', 5000],
    ['socket://ser2net.local:3001', 'ser2net.local', 3001],
    ['SOCKET://host:1', 'host', 1],
    ['socket://host:65535/', 'host', 65535],
    ['socket://[::1]:5000', '::1', 5000],
    ['socket://[fe80::1:2]:2000', 'fe80::1:2', 2000],
  ])('%s is TCP to %s port %d', (url, host, port) => {
    expect(parseTransportUrl(url)).toEqual({ kind: 'tcp', url, host, port });
  });

  test.each([
    ['socket://host', 'TRANSPORT_BAD_URL'],
    ['socket://host:', 'TRANSPORT_BAD_URL'],
    ['socket://:5000', 'TRANSPORT_BAD_URL'],
    ['socket://host:0', 'TRANSPORT_BAD_URL'],
    ['socket://host:65536', 'TRANSPORT_BAD_URL'],
    ['socket://host:http', 'TRANSPORT_BAD_URL'],
    ['socket://::1:5000', 'TRANSPORT_BAD_URL'],
    ['socket://[::1]', 'TRANSPORT_BAD_URL'],
    ['socket://[::1:5000', 'TRANSPORT_BAD_URL'],
    ['socket://[not-ipv6]:5000', 'TRANSPORT_BAD_URL'],
    ['socket:host:5000', 'TRANSPORT_BAD_URL'],
    ['socket://host:5000?baud=9600', 'TRANSPORT_BAD_OPTION'],
  ])('rejects %j with %s', (url, code) => {
    expect(codeOf(() => parseTransportUrl(url))).toBe(code);
  });
});

describe('parseTransportUrl leaves other schemes to open time', () => {
  test('an unregistered scheme parses; whether it exists is decided when opening', () => {
    expect(parseTransportUrl('nosuch:thing')).toEqual({ kind: 'scheme', url: 'nosuch:thing', scheme: 'nosuch', rest: 'thing', params: new Map() });
  });

  test('lower-cases the scheme, drops a leading //, and decodes the query without judging it', () => {
    const parsed = parseTransportUrl('Emulator://BG96?baud=115200&fault=drop%20every%203');
    expect(parsed).toEqual({
      kind: 'scheme',
      url: 'Emulator://BG96?baud=115200&fault=drop%20every%203',
      scheme: 'emulator',
      rest: 'BG96',
      params: new Map([
        ['baud', '115200'],
        ['fault', 'drop every 3'],
      ]),
    });
  });

  test('still rejects a repeated option in a scheme URL', () => {
    expect(codeOf(() => parseTransportUrl('emulator:BG96?baud=1&baud=2'))).toBe('TRANSPORT_BAD_OPTION');
  });
});

describe('parseTransportUrl reads rfc2217:// addresses', () => {
  test('host, port and the far port\'s line settings', () => {
    expect(parseTransportUrl('rfc2217://rack1:7001?baud=921600&rtscts=1')).toEqual({
      kind: 'rfc2217', url: 'rfc2217://rack1:7001?baud=921600&rtscts=1', host: 'rack1', port: 7001, options: { baudRate: 921600, rtscts: true },
    });
    expect(parseTransportUrl('RFC2217://[::1]:7001')).toMatchObject({ kind: 'rfc2217', host: '::1', port: 7001, options: {} });
  });
  test.each<[string, QuectelErrorCode]>([
    ['rfc2217:rack1:7001', 'TRANSPORT_BAD_URL'],
    ['rfc2217://rack1', 'TRANSPORT_BAD_URL'],
    ['rfc2217://rack1:0', 'TRANSPORT_BAD_URL'],
    ['rfc2217://ra"ck:7001', 'TRANSPORT_BAD_URL'],
    ['rfc2217://rack1:7001?baud=fast', 'TRANSPORT_BAD_OPTION'],
    ['rfc2217://rack1:7001?parity=even', 'TRANSPORT_BAD_OPTION'],
  ])('%s is %s', (url, code) => {
    expect(codeOf(() => parseTransportUrl(url))).toBe(code);
  });
});

describe('assertBaudRate', () => {
  test.each([1, 9600, 115200, MAX_BAUD_RATE])('accepts %d', (rate) => {
    expect(assertBaudRate(rate)).toBe(rate);
  });
  test.each([0, -1, 1.5, NaN, Infinity, MAX_BAUD_RATE + 1])('rejects %d with TRANSPORT_BAD_OPTION', (rate) => {
    expect(codeOf(() => assertBaudRate(rate))).toBe('TRANSPORT_BAD_OPTION');
  });
});
