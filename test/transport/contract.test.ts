// The transport contract over each real transport: SerialPortTransport on a socat pty pair (native binding on
// both ends), TcpTransport against a node:net server on loopback, and Rfc2217Transport through ser2net's telnet
// (RFC 2217) accepter to a pty pair.
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { expect } from 'vitest';
import { openTransport } from '../../src/transport/openTransport.js';
import { guardUnixPoller } from '../../src/bindings/guardUnixPoller.js';
import { SerialPortTransport } from '../../src/transport/SerialPortTransport.js';
import { Rfc2217Transport } from '../../src/transport/Rfc2217Transport.js';
import { TcpTransport } from '../../src/transport/TcpTransport.js';
import { startSer2net } from '../helpers/ser2net.js';
import { startSocatPair } from '../helpers/socatPair.js';
import { describeTransportContract, type TransportPeer } from '../helpers/transportContract.js';

/**
 * The far end of a pty pair as a peer: serialport itself, not our transport, so the suite checks ours against an
 * independent end. It gets the same poller guard as ours, because bindings-cpp polls only the latest event it was
 * asked for: unguarded, the peer's parked write went unpolled once its next read parked, and "1 MiB each way" waited
 * 10 s for bytes the peer never sent (flaky under CPU load, when the pty buffers fill; see
 * src/bindings/guardUnixPoller.ts).
 */
async function ptyPeer(path: string): Promise<{ readonly port: SerialPortStream; close(): Promise<void> }> {
  const port = new SerialPortStream({ binding: guardUnixPoller(SerialPort.binding), path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  port.on('error', () => {
    // A write the suite cut short by closing; the test's own assertions judge the outcome.
  });
  return {
    port,
    close: async () => {
      if (!port.isOpen) return;
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}

/** The peer's write and data, for any pty peer. */
function peerOf(peerPort: SerialPortStream, vanish: () => Promise<void>): TransportPeer {
  return {
    write: (data) => new Promise((resolve, reject) => peerPort.write(Buffer.from(data), (e) => (e ? reject(e) : resolve()))),
    // serialport's chunks are views of its read pool: copy before keeping them.
    onData: (listener) => peerPort.on('data', (chunk: Buffer) => listener(Uint8Array.prototype.slice.call(chunk))),
    vanish,
  };
}

describeTransportContract('SerialPortTransport on a socat pty pair', async () => {
  const socat = await startSocatPair();
  const transport = await openTransport(socat.pathA);
  expect(transport).toBeInstanceOf(SerialPortTransport);
  const far = await ptyPeer(socat.pathB);
  // The peer end closes before socat dies: killing socat under an open native port whose read is not parked in
  // the poller makes bindings-cpp spin (see src/bindings/guardUnixHangup.ts); our transport is guarded, the peer is not.
  const peer = peerOf(far.port, async () => {
    await far.close();
    await socat.close();
  });
  return {
    transport,
    peer,
    dispose: async () => {
      await far.close();
      await socat.close();
    },
  };
});

describeTransportContract('TcpTransport against a node:net server', async () => {
  const server: Server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const transport = await openTransport(`socket://127.0.0.1:${address.port}`);
  expect(transport).toBeInstanceOf(TcpTransport);
  const socket = await accepted;
  socket.on('error', () => {
    // Resets after the transport closed mid-write; the test's own assertions judge the outcome.
  });
  // Paused until the suite asks for data, so writes back up as they would on a peer that stopped reading.
  socket.pause();
  const closeServer = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  const peer: TransportPeer = {
    write: (data) => new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve()))),
    onData: (listener) => {
      socket.on('data', (chunk: Buffer) => listener(chunk));
      socket.resume();
    },
    vanish: async () => {
      socket.destroy();
      await closeServer();
    },
  };
  return {
    transport,
    peer,
    dispose: async () => {
      socket.destroy();
      if (server.listening) await closeServer();
    },
  };
});

describeTransportContract('Rfc2217Transport through ser2net to a socat pty pair', async () => {
  const socat = await startSocatPair();
  const server = await startSer2net([{ device: socat.pathA, mode: 'rfc2217' }]);
  const transport = await openTransport(`${server.urls[0]!}?baud=115200`);
  expect(transport).toBeInstanceOf(Rfc2217Transport);
  const far = await ptyPeer(socat.pathB);
  // The serial server going away is what a pulled network cable looks like from here.
  const peer = peerOf(far.port, () => server.close());
  return {
    transport,
    peer,
    dispose: async () => {
      await server.close();
      await far.close();
      await socat.close();
    },
  };
});
