// How TcpTransport reports the ways a TCP peer can leave.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { TcpTransport } from '../../src/transport/TcpTransport.js';
import type { TransportCloseEvent } from '../../src/transport/Transport.js';
import { within } from '../helpers/transportContract.js';

let server: Server;
let transport: TcpTransport;
let peer: Socket;
let events: TransportCloseEvent[];

beforeEach(async () => {
  server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  transport = await TcpTransport.open({ host: '127.0.0.1', port: address.port });
  peer = await accepted;
  peer.on('error', () => {});
  events = [];
  transport.on('close', (event) => events.push(event));
});
afterEach(async () => {
  await transport.close();
  peer.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function closed(): Promise<TransportCloseEvent> {
  return within(new Promise((resolve) => transport.once('close', resolve)), 5000, 'the close event');
}

test('reports its URL as socket://host:port', () => {
  expect(transport.url).toBe(`socket://127.0.0.1:${peer.localPort}`);
});

test('a peer that ends the connection (FIN) is "disconnected"', async () => {
  const event = closed();
  peer.end();
  expect(await event).toEqual({ reason: 'disconnected' });
});

test('a peer that resets the connection (RST) is "disconnected"', async () => {
  const event = closed();
  peer.resetAndDestroy();
  expect(await event).toEqual({ reason: 'disconnected' });
  expect(events).toHaveLength(1);
});

test('bytes the peer sent just before ending still arrive before the close event', async () => {
  const order: string[] = [];
  transport.on('data', (chunk) => order.push(Buffer.from(chunk).toString()));
  transport.on('close', (event) => order.push(event.reason));
  const event = closed();
  peer.end('\r\nPOWERED DOWN\r\n');
  await event;
  expect(order.join('')).toBe('\r\nPOWERED DOWN\r\ndisconnected');
});
