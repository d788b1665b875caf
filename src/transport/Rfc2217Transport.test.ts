import { createServer, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { isQuectelError } from '../errors.js';
import { Rfc2217Transport } from './Rfc2217Transport.js';
import { DO, DONT, IAC, negotiation, OPTION, subnegotiation, TelnetDecoder, type TelnetEvent } from './telnet.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A telnet server on loopback whose answers the test scripts: `onEvent` sees each decoded event of the client. */
async function server(onEvent: (e: TelnetEvent, socket: Socket) => void, onData?: (data: Uint8Array) => void): Promise<number> {
  const srv = createServer((socket) => {
    socket.on('error', () => {});
    const decoder = new TelnetDecoder();
    socket.on('data', (chunk: Buffer) => {
      const { data, events } = decoder.decode(chunk);
      for (const e of events) onEvent(e, socket);
      if (data.length > 0) onData?.(data);
    });
    closers.push(() => socket.destroy());
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  closers.push(() => srv.close());
  return (srv.address() as { port: number }).port;
}

/** Answers like a good RFC 2217 server; `baud` overrides the speed it says it set. */
const good = (baud?: number) => (e: TelnetEvent, socket: Socket) => {
  if (e.kind === 'negotiate' && e.option === OPTION.COM_PORT) socket.write(negotiation(DO, OPTION.COM_PORT));
  if (e.kind === 'subnegotiate' && e.option === OPTION.COM_PORT) {
    const answer = Uint8Array.from(e.payload);
    answer[0]! += 100;
    if (e.payload[0] === 1 && baud !== undefined) new DataView(answer.buffer).setUint32(1, baud);
    socket.write(subnegotiation(OPTION.COM_PORT, answer));
  }
};

test('a telnet server that refuses the COM-PORT-OPTION is named as one without RFC 2217', async () => {
  const port = await server((e, s) => {
    if (e.kind === 'negotiate' && e.option === OPTION.COM_PORT) s.write(negotiation(DONT, OPTION.COM_PORT));
  });
  const r = await Rfc2217Transport.open({ host: '127.0.0.1', port }).then(() => 'opened', (e: unknown) => e);
  expect(isQuectelError(r, 'TRANSPORT_OPEN_FAILED') && r.message).toMatch(/without RFC 2217/);
});

test('a speed the server did not set is an error at open, not garbled bytes later', async () => {
  const port = await server(good(9600));
  const r = await Rfc2217Transport.open({ host: '127.0.0.1', port, baudRate: 921_600 }).then(() => 'opened', (e: unknown) => e);
  expect(isQuectelError(r, 'TRANSPORT_BAD_OPTION') && r.message).toMatch(/9600 baud, not 921600/);
});

test('bytes the module sent during negotiation reach the first listener, and 0xFF crosses both ways', async () => {
  const received: number[] = [];
  let client: Socket | undefined;
  const port = await server((e, s) => {
    client = s;
    if (e.kind === 'negotiate' && e.option === OPTION.COM_PORT) s.write(Uint8Array.of(0x52, 0x44, 0x59, IAC, IAC)); // "RDY" and 0xFF, early
    good()(e, s);
  }, (d) => received.push(...d));
  const t = await Rfc2217Transport.open({ host: '127.0.0.1', port });
  const got: number[] = [];
  t.on('data', (d) => got.push(...d));
  await t.write(Uint8Array.of(1, IAC, 2));
  client!.write(Uint8Array.of(IAC, IAC, 0x0d, 0x0a));
  for (let i = 0; i < 100 && (got.length < 7 || received.length < 3); i++) await new Promise((r) => setTimeout(r, 10));
  expect(got).toEqual([0x52, 0x44, 0x59, 0xff, 0xff, 0x0d, 0x0a]);
  expect(received).toEqual([1, 0xff, 2]);
  await t.close();
});
