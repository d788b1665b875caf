import { describe, expect, test } from 'vitest';
import { FakeBinding } from '../../test/transport/FakeBinding.js';
import { isQuectelError, type QuectelErrorCode } from '../errors.js';
import { SerialPortTransport } from './SerialPortTransport.js';
import type { TransportCloseEvent } from './Transport.js';

async function openFake(options: { baudRate?: number; rtscts?: boolean } = {}) {
  const binding = new FakeBinding();
  const transport = await SerialPortTransport.open({ path: '/dev/fake0', binding, ...options });
  const closeEvents: TransportCloseEvent[] = [];
  transport.on('close', (event) => closeEvents.push(event));
  return { binding, port: binding.port, transport, closeEvents };
}

function nextClose(transport: SerialPortTransport): Promise<TransportCloseEvent> {
  return new Promise((resolve) => transport.once('close', resolve));
}

async function codeOf(promise: Promise<unknown>): Promise<QuectelErrorCode | 'no error' | 'not a QuectelError'> {
  try {
    await promise;
    return 'no error';
  } catch (e) {
    return isQuectelError(e) ? e.code : 'not a QuectelError';
  }
}

describe('SerialPortTransport over a custom binding', () => {
  test('opens through the binding it is given, with 115200 and no flow control by default', async () => {
    const { binding, transport } = await openFake();
    expect(binding.opened).toHaveLength(1);
    expect(binding.opened[0]).toMatchObject({ path: '/dev/fake0', baudRate: 115200, rtscts: false });
    expect(transport.url).toBe('/dev/fake0');
    expect(transport.isOpen).toBe(true);
    await transport.close();
  });

  test('passes baud rate and rtscts through to the binding', async () => {
    const { binding, transport } = await openFake({ baudRate: 921600, rtscts: true });
    expect(binding.opened[0]).toMatchObject({ baudRate: 921600, rtscts: true });
    await transport.close();
  });

  test('rejects a bad baud rate before touching the binding', async () => {
    const binding = new FakeBinding();
    expect(await codeOf(SerialPortTransport.open({ path: '/dev/fake0', binding, baudRate: 0 }))).toBe('TRANSPORT_BAD_OPTION');
    expect(binding.opened).toHaveLength(0);
  });

  test('delivers read bytes as copies that later reads cannot touch', async () => {
    const { port, transport } = await openFake();
    const chunks: Uint8Array[] = [];
    transport.on('data', (chunk) => chunks.push(chunk));
    port.feed(Buffer.from('AT\r\r\nOK\r\n'));
    await until(() => chunks.length === 1);
    port.feed(Buffer.from('\r\n+QIURC: "closed",0\r\n'));
    await until(() => chunks.length === 2);
    expect(Buffer.from(chunks[0]).toString()).toBe('AT\r\r\nOK\r\n');
    expect(Buffer.from(chunks[1]).toString()).toBe('\r\n+QIURC: "closed",0\r\n');
    for (const chunk of chunks) expect(chunk.buffer.byteLength).toBe(chunk.byteLength);
    await transport.close();
  });

  test('writes copies of the caller bytes, in order, and resolves once the binding took them', async () => {
    const { port, transport } = await openFake();
    const first = Uint8Array.from(Buffer.from('AT+QSSLCFG'));
    const writing = [transport.write(first), transport.write(Buffer.from('="sslversion",1,4\r'))];
    first.fill(0x58); // the caller reuses its buffer at once
    await Promise.all(writing);
    expect(port.written().toString()).toBe('AT+QSSLCFG="sslversion",1,4\r');
    await transport.close();
  });

  test('an end of stream from the binding closes the port and reports "disconnected"', async () => {
    const { port, transport, closeEvents } = await openFake();
    transport.on('data', () => {});
    const closed = nextClose(transport);
    port.end();
    expect(await closed).toEqual({ reason: 'disconnected' });
    expect(port.isOpen).toBe(false);
    expect(transport.isOpen).toBe(false);
    expect(await codeOf(transport.write(Uint8Array.of(0x41)))).toBe('TRANSPORT_CLOSED');
    await transport.close();
    expect(closeEvents).toHaveLength(1);
  });

  test('a read error from the binding reports "disconnected"', async () => {
    const { port, transport } = await openFake();
    const closed = nextClose(transport);
    await until(() => {
      try {
        port.failRead(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        return true;
      } catch {
        return false;
      }
    });
    expect(await closed).toEqual({ reason: 'disconnected' });
    expect(port.isOpen).toBe(false);
  });

  test('a write the binding fails rejects with TRANSPORT_CLOSED and reports "disconnected"', async () => {
    const { port, transport, closeEvents } = await openFake();
    port.writeError = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    const closed = nextClose(transport);
    expect(await codeOf(transport.write(Uint8Array.of(0x41, 0x54)))).toBe('TRANSPORT_CLOSED');
    expect(await closed).toEqual({ reason: 'disconnected' });
    expect(closeEvents).toHaveLength(1);
  });

  test('close() waits for the binding to release the port', async () => {
    const { port, transport, closeEvents } = await openFake();
    await transport.close();
    expect(port.calls).toContain('close');
    expect(port.isOpen).toBe(false);
    expect(closeEvents).toEqual([{ reason: 'closed' }]);
  });
});

describe('SerialPortTransport.setBaudRate', () => {
  test('drains, then changes the line speed', async () => {
    const { port, transport } = await openFake();
    await transport.setBaudRate(921600);
    expect(port.baudRates).toEqual([921600]);
    expect(port.calls.filter((c) => c === 'drain' || c === 'update')).toEqual(['drain', 'update']);
    await transport.close();
  });

  test('rejects a rate out of range without asking the binding', async () => {
    const { port, transport } = await openFake();
    expect(await codeOf(transport.setBaudRate(1.5))).toBe('TRANSPORT_BAD_OPTION');
    expect(port.calls).not.toContain('update');
    await transport.close();
  });

  test('reports a rate the port refuses as TRANSPORT_BAD_OPTION and stays open', async () => {
    const { port, transport } = await openFake();
    port.updateError = new Error('Error: Invalid argument setting custom baud rate of 3500000');
    expect(await codeOf(transport.setBaudRate(3_500_000))).toBe('TRANSPORT_BAD_OPTION');
    expect(transport.isOpen).toBe(true);
    await transport.close();
  });

  test('rejects with TRANSPORT_CLOSED after close', async () => {
    const { transport } = await openFake();
    await transport.close();
    expect(await codeOf(transport.setBaudRate(9600))).toBe('TRANSPORT_CLOSED');
  });
});

describe('SerialPortTransport sorts open failures once', () => {
  test.each<[string, string | undefined, QuectelErrorCode]>([
    ['Error: No such file or directory, cannot open /dev/ttyUSB9', undefined, 'TRANSPORT_NOT_FOUND'],
    ['Opening COM9: File not found', undefined, 'TRANSPORT_NOT_FOUND'],
    ['spawn failed', 'ENOENT', 'TRANSPORT_NOT_FOUND'],
    ['Error Resource temporarily unavailable Cannot lock port', undefined, 'TRANSPORT_BUSY'],
    ['Opening COM5: Access denied', undefined, 'TRANSPORT_BUSY'],
    ['device or resource busy', 'EBUSY', 'TRANSPORT_BUSY'],
    ['Error baud rate of 1234 is not supported on your platform', undefined, 'TRANSPORT_BAD_OPTION'],
    ['Error: Permission denied, cannot open /dev/ttyUSB0', undefined, 'TRANSPORT_OPEN_FAILED'],
    ['Error: Input/output error, cannot open /dev/ttyS0', undefined, 'TRANSPORT_OPEN_FAILED'],
  ])('%j (code %s) becomes %s', async (message, code, expected) => {
    const binding = new FakeBinding();
    binding.openError = Object.assign(new Error(message), code === undefined ? {} : { code });
    const error = await SerialPortTransport.open({ path: '/dev/x', binding }).then(() => undefined, (e: unknown) => e);
    expect(isQuectelError(error, expected)).toBe(true);
    expect((error as Error).cause).toBe(binding.openError);
  });
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
