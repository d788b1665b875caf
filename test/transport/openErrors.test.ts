// Open failures against the real OS: a missing device, a pty already open, a bad option, a closed TCP port.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isQuectelError, type QuectelErrorCode } from '../../src/errors.js';
import { openTransport } from '../../src/transport/openTransport.js';
import { TcpTransport } from '../../src/transport/TcpTransport.js';
import type { Transport } from '../../src/transport/Transport.js';
import { startSocatPair, type SocatPair } from '../helpers/socatPair.js';

async function failureOf(promise: Promise<Transport>): Promise<{ code: QuectelErrorCode | 'no error' | 'not a QuectelError'; error?: unknown }> {
  try {
    const transport = await promise;
    await transport.close();
    return { code: 'no error' };
  } catch (error) {
    return { code: isQuectelError(error) ? error.code : 'not a QuectelError', error };
  }
}

/** A loopback port that nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('opening a serial device that is not there', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ussl-missing-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('fails with TRANSPORT_NOT_FOUND', async () => {
    expect((await failureOf(openTransport(join(dir, 'ttyUSB9')))).code).toBe('TRANSPORT_NOT_FOUND');
  });

  test('checks baud=abc before looking for the device: TRANSPORT_BAD_OPTION', async () => {
    expect((await failureOf(openTransport(`${join(dir, 'ttyUSB9')}?baud=abc`))).code).toBe('TRANSPORT_BAD_OPTION');
  });
});

describe('opening a pty that is already open', () => {
  let socat: SocatPair;
  beforeEach(async () => {
    socat = await startSocatPair();
  });
  afterEach(async () => {
    await socat.close();
  });

  // serialport's native binding takes an exclusive flock() on open (lock: true by default); a second open file
  // description conflicts with it even inside the same process, so this is what a second program sees too.
  test('fails with TRANSPORT_BUSY, and opens again once the first transport closed', async () => {
    const first = await openTransport(socat.pathA);
    const second = await failureOf(openTransport(socat.pathA));
    expect(second.code).toBe('TRANSPORT_BUSY');
    expect(first.isOpen).toBe(true);
    await first.close();
    const third = await openTransport(socat.pathA);
    expect(third.isOpen).toBe(true);
    await third.close();
  });

  test('a bad baud option on an existing pty is TRANSPORT_BAD_OPTION', async () => {
    expect((await failureOf(openTransport(`${socat.pathA}?baud=abc`))).code).toBe('TRANSPORT_BAD_OPTION');
    expect((await failureOf(openTransport(socat.pathA, { baudRate: 5_000_000 }))).code).toBe('TRANSPORT_BAD_OPTION');
  });

  test('a pty takes a non-standard baud rate', async () => {
    const transport = await openTransport(`${socat.pathA}?baud=250000`);
    expect(transport.isOpen).toBe(true);
    await transport.setBaudRate?.(1_000_000);
    await transport.close();
  });
});

describe('opening socket:// where nothing listens', () => {
  test('fails with TRANSPORT_NOT_FOUND (connection refused), its cause carrying ECONNREFUSED', async () => {
    const port = await closedPort();
    const { code, error } = await failureOf(openTransport(`socket://127.0.0.1:${port}`));
    expect(code).toBe('TRANSPORT_NOT_FOUND');
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('rejects a port out of range passed directly with TRANSPORT_BAD_OPTION', async () => {
    expect((await failureOf(TcpTransport.open({ host: '127.0.0.1', port: 70000 }))).code).toBe('TRANSPORT_BAD_OPTION');
  });
});
