/**
 * RFC 2217 over telnet against hostile and odd servers: answers cut into single bytes, telnet commands for options
 * nobody asked about in the middle of data, 0xFF both ways, a server that stops answering half-way; and URL parsing.
 */
import { createServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import { isQuectelError } from '../../src/index.js';
import { parseTransportUrl } from '../../src/transport/parseTransportUrl.js';
import { Rfc2217Transport } from '../../src/transport/Rfc2217Transport.js';
import {
  DO, escapeData, IAC, negotiation, OPTION, SB, SE, subnegotiation, TelnetDecoder, WILL, WONT, type TelnetEvent,
} from '../../src/transport/telnet.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A scripted telnet server; `onEvent` sees each event of the client, `onData` its data. */
async function server(onEvent: (e: TelnetEvent, s: Socket) => void, onData?: (d: Uint8Array, s: Socket) => void,
  write: (s: Socket, bytes: Uint8Array) => void = (s, b) => void s.write(b)): Promise<number> {
  const srv = createServer((socket) => {
    socket.on('error', () => {});
    const decoder = new TelnetDecoder();
    socket.on('data', (chunk: Buffer) => {
      const { data, events } = decoder.decode(chunk);
      for (const e of events) onEvent(e, Object.assign(socket, { w: (b: Uint8Array) => write(socket, b) }));
      if (data.length > 0) onData?.(data, socket);
    });
    closers.push(() => socket.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => srv.close());
  return (srv.address() as { port: number }).port;
}

/** A correct RFC 2217 server that writes its answers through `w`. */
const answerer = (w: (s: Socket, b: Uint8Array) => void) => (e: TelnetEvent, s: Socket) => {
  if (e.kind === 'negotiate' && e.option === OPTION.COM_PORT) w(s, negotiation(DO, OPTION.COM_PORT));
  if (e.kind === 'negotiate' && e.option === OPTION.BINARY) w(s, negotiation(e.verb === WILL ? DO : WILL, OPTION.BINARY));
  if (e.kind === 'subnegotiate' && e.option === OPTION.COM_PORT) {
    const a = Uint8Array.from(e.payload);
    a[0]! += 100;
    w(s, subnegotiation(OPTION.COM_PORT, a));
  }
};

const byteByByte = (s: Socket, b: Uint8Array) => {
  for (const x of b) setTimeout(() => s.write(Uint8Array.of(x)), 0);
};

test('a server that sends every answer one byte per packet: the port opens and data flows', async () => {
  const port = await server(answerer(byteByByte));
  const t = await Rfc2217Transport.open({ host: '127.0.0.1', port, baudRate: 921_600 });
  expect(t.isOpen).toBe(true);
  await t.close();
});

test('a server that stops answering after DO COM-PORT: the open fails within the negotiation time, nothing left open', async () => {
  let sock: Socket | undefined;
  const port = await server((e, s) => {
    sock = s;
    if (e.kind === 'negotiate' && e.option === OPTION.COM_PORT) s.write(negotiation(DO, OPTION.COM_PORT));
  });
  const t0 = Date.now();
  const r = await Rfc2217Transport.open({ host: '127.0.0.1', port, negotiationTimeoutMs: 300 }).then(() => 'opened', (e: unknown) => e);
  expect(isQuectelError(r, 'TRANSPORT_OPEN_FAILED')).toBe(true);
  expect(Date.now() - t0).toBeLessThan(2000);
  await new Promise((res) => setTimeout(res, 100));
  expect(sock?.destroyed || sock?.readableEnded).toBe(true);
});

test('property: data from the far port with 0xFF, stray negotiations, NOPs and unknown subnegotiations between the bytes arrives intact', async () => {
  let client: Socket | undefined;
  const port = await server((e, s) => {
    client = s;
    answerer((x, b) => void x.write(b))(e, s);
  });
  const t = await Rfc2217Transport.open({ host: '127.0.0.1', port });
  let got: number[] = [];
  t.on('data', (d) => got.push(...d));
  const noise = fc.constantFrom(
    Uint8Array.of(IAC, 241), // NOP
    negotiation(WILL, 1), negotiation(WONT, 24), negotiation(DO, 31),
    Uint8Array.of(IAC, SB, 24, 1, IAC, SE), // terminal type, never asked
    subnegotiation(OPTION.COM_PORT, Uint8Array.of(106, 0xff)), // a NOTIFY-LINESTATE-like answer with a 0xFF
  );
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.option(noise)), { minLength: 1, maxLength: 12 }), async (parts) => {
    got = [];
    const want: number[] = [];
    const wire: Uint8Array[] = [];
    for (const [data, n] of parts) {
      want.push(...data);
      wire.push(escapeData(data));
      if (n) wire.push(n);
    }
    const all = Buffer.concat(wire);
    // cut at every 3rd byte, so escapes and commands straddle packets
    for (let i = 0; i < all.length; i += 3) client!.write(all.subarray(i, i + 3));
    for (let i = 0; i < 200 && got.length < want.length; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
  }), { numRuns: 40 });
  await t.close();
}, 20_000);

test('property: bytes written through the transport (every value, 0xFF and CR included) reach the far port unchanged', async () => {
  let received: number[] = [];
  const port = await server(answerer((x, b) => void x.write(b)), (d) => received.push(...d));
  const t = await Rfc2217Transport.open({ host: '127.0.0.1', port });
  await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 6 }), async (writes) => {
    received = [];
    for (const w of writes) await t.write(w);
    const want = Buffer.concat(writes.map((w) => Buffer.from(w)));
    for (let i = 0; i < 200 && received.length < want.length; i++) await new Promise((r) => setTimeout(r, 5));
    expect(Buffer.from(received).equals(want)).toBe(true);
  }), { numRuns: 40 });
  await t.close();
}, 20_000);

test('property: any URL either parses to a usable endpoint or is refused with a TRANSPORT_* error', () => {
  const seg = fc.oneof(
    fc.constantFrom('socket://', 'rfc2217://', 'emulator:', '/dev/tty', 'COM5', '?', '&', '=', '%', '%zz', '[', ']', ':', '::1', '127.0.0.1', 'baud', 'rtscts', '1', '115200', '/'),
    fc.string({ unit: 'binary', maxLength: 4 }),
  );
  fc.assert(fc.property(fc.array(seg, { maxLength: 8 }).map((a) => a.join('')), (u) => {
    try {
      const r = parseTransportUrl(u);
      if (r.kind === 'tcp' || r.kind === 'rfc2217') {
        expect(r.port >= 1 && r.port <= 65_535 && r.host.length > 0).toBe(true);
      }
    } catch (e) {
      if (!isQuectelError(e) || !e.code.startsWith('TRANSPORT_')) throw e;
    }
  }), { numRuns: 20_000 });
});
