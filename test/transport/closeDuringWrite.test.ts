// close() while a write is backed up in the link: the write must fail with TRANSPORT_CLOSED, not hang and not
// claim success (node:net calls back without error for a write that destroy() cancelled).
import { createServer, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { expect, test } from 'vitest';
import { isQuectelError } from '../../src/errors.js';
import { SerialPortTransport } from '../../src/transport/SerialPortTransport.js';
import { TcpTransport } from '../../src/transport/TcpTransport.js';
import type { Transport } from '../../src/transport/Transport.js';
import { startSocatPair } from '../helpers/socatPair.js';
import { within } from '../helpers/transportContract.js';

async function expectCloseRejectsBackedUpWrite(transport: Transport): Promise<void> {
  let settled = false;
  const outcome = transport.write(new Uint8Array(32 * 1024 * 1024)).then(
    () => 'resolved',
    (e: unknown) => e,
  );
  void outcome.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(settled).toBe(false); // the peer reads nothing, so 32 MiB cannot have gone out
  await transport.close();
  const result = await within(outcome, 5000, 'the backed-up write to settle');
  expect(isQuectelError(result, 'TRANSPORT_CLOSED')).toBe(true);
}

test('TcpTransport: close() rejects a write the peer has not taken with TRANSPORT_CLOSED', async () => {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const transport = await TcpTransport.open({ host: '127.0.0.1', port: address.port });
  const peer = await accepted;
  peer.on('error', () => {});
  peer.pause();
  try {
    await expectCloseRejectsBackedUpWrite(transport);
  } finally {
    peer.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('SerialPortTransport: close() rejects a write the pty has not taken with TRANSPORT_CLOSED', async () => {
  const socat = await startSocatPair();
  const transport = await SerialPortTransport.open({ path: socat.pathA });
  // Open but never read: the pty pair fills up after a few KiB.
  const peer = new SerialPort({ path: socat.pathB, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => peer.open((error) => (error ? reject(error) : resolve())));
  try {
    await expectCloseRejectsBackedUpWrite(transport);
  } finally {
    await new Promise<void>((resolve) => peer.close(() => resolve()));
    await socat.close();
  }
});
