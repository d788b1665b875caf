import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { FakeBinding } from '../../test/transport/FakeBinding.js';
import { isQuectelError, type QuectelErrorCode } from '../errors.js';
import { knownTransportSchemes, openTransport, registerTransportScheme, type OpenTransportOptions } from './openTransport.js';
import type { ParsedSchemeUrl } from './parseTransportUrl.js';
import { SerialPortTransport } from './SerialPortTransport.js';
import type { Transport, TransportEvents } from './Transport.js';

/** A transport that only records how it was opened; enough for the registry. */
class StubTransport extends EventEmitter<TransportEvents> implements Transport {
  isOpen = true;
  constructor(
    readonly url: string,
    readonly parsed: ParsedSchemeUrl,
    readonly options: OpenTransportOptions,
  ) {
    super();
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {
    this.isOpen = false;
  }
}

const stubOpener = async (parsed: ParsedSchemeUrl, options: OpenTransportOptions): Promise<StubTransport> =>
  new StubTransport(parsed.url, parsed, options);

async function codeOf(run: () => Promise<unknown>): Promise<QuectelErrorCode | 'no error' | 'not a QuectelError'> {
  try {
    await run();
    return 'no error';
  } catch (e) {
    return isQuectelError(e) ? e.code : 'not a QuectelError';
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('openTransport for device paths', () => {
  test('opens a SerialPortTransport through the given binding with the URL options', async () => {
    const binding = new FakeBinding();
    const transport = await openTransport('/dev/ttyUSB2?baud=921600&rtscts=1', { binding });
    expect(transport).toBeInstanceOf(SerialPortTransport);
    expect(transport.url).toBe('/dev/ttyUSB2?baud=921600&rtscts=1');
    expect(binding.opened[0]).toMatchObject({ path: '/dev/ttyUSB2', baudRate: 921600, rtscts: true });
    await transport.close();
  });

  test('lets options override the URL', async () => {
    const binding = new FakeBinding();
    const transport = await openTransport('COM5?baud=9600&rtscts=1', { binding, baudRate: 460800, rtscts: false });
    expect(binding.opened[0]).toMatchObject({ path: 'COM5', baudRate: 460800, rtscts: false });
    await transport.close();
  });

  test('rejects baud=abc with TRANSPORT_BAD_OPTION before opening anything', async () => {
    const binding = new FakeBinding();
    expect(await codeOf(() => openTransport('/dev/ttyUSB2?baud=abc', { binding }))).toBe('TRANSPORT_BAD_OPTION');
    expect(await codeOf(() => openTransport('/dev/ttyUSB2', { binding, baudRate: -1 }))).toBe('TRANSPORT_BAD_OPTION');
    expect(binding.opened).toHaveLength(0);
  });

  test('rejects a malformed URL with TRANSPORT_BAD_URL', async () => {
    expect(await codeOf(() => openTransport(''))).toBe('TRANSPORT_BAD_URL');
    expect(await codeOf(() => openTransport('socket://[::1]'))).toBe('TRANSPORT_BAD_URL');
  });
});

describe('openTransport for run-time schemes', () => {
  test('an unregistered scheme is TRANSPORT_UNKNOWN_SCHEME, listing the schemes it knows', async () => {
    cleanups.push(registerTransportScheme('loop', stubOpener));
    const error = await openTransport('emulator:BG96').then(() => undefined, (e: unknown) => e);
    expect(isQuectelError(error, 'TRANSPORT_UNKNOWN_SCHEME')).toBe(true);
    expect(isQuectelError(error) && error.context).toMatchObject({ scheme: 'emulator', known: 'loop:, rfc2217:, socket:' });
  });

  test('hands a registered scheme its parsed URL and the options', async () => {
    cleanups.push(registerTransportScheme('Emulator', stubOpener));
    const transport = await openTransport('emulator:BG96?baud=115200', { baudRate: 921600 });
    expect(transport).toBeInstanceOf(StubTransport);
    const stub = transport as StubTransport;
    expect(stub.parsed).toMatchObject({ kind: 'scheme', scheme: 'emulator', rest: 'BG96', url: 'emulator:BG96?baud=115200' });
    expect(stub.parsed.params.get('baud')).toBe('115200');
    expect(stub.options).toEqual({ baudRate: 921600 });
    expect(knownTransportSchemes()).toEqual(['emulator', 'rfc2217', 'socket']);
  });

  test('passes an opener failure through unchanged', async () => {
    const failure = new Error('model not supported');
    cleanups.push(registerTransportScheme('broken', () => Promise.reject(failure)));
    await expect(openTransport('broken:x')).rejects.toBe(failure);
  });

  test('unregistering makes the scheme unknown again', async () => {
    const unregister = registerTransportScheme('gone', stubOpener);
    unregister();
    expect(await codeOf(() => openTransport('gone:x'))).toBe('TRANSPORT_UNKNOWN_SCHEME');
    expect(knownTransportSchemes()).toEqual(['rfc2217', 'socket']);
  });

  test('registering the same opener twice is harmless; another opener for a taken scheme is refused', () => {
    cleanups.push(registerTransportScheme('twice', stubOpener));
    cleanups.push(registerTransportScheme('TWICE', stubOpener));
    expect(() => registerTransportScheme('twice', async (parsed, options) => stubOpener(parsed, options))).toThrowError(
      expect.objectContaining({ code: 'TRANSPORT_BAD_SCHEME' }),
    );
  });

  test.each(['socket', 'Socket', 'x', '9lives', 'has space', 'a:b', ''])('refuses to register %j', (scheme) => {
    expect(() => registerTransportScheme(scheme, stubOpener)).toThrowError(expect.objectContaining({ code: 'TRANSPORT_BAD_SCHEME' }));
  });
});
