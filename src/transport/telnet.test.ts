import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DO, escapeData, IAC, negotiation, OPTION, subnegotiation, TelnetDecoder, WILL, type TelnetEvent } from './telnet.js';

/** Cuts `bytes` at the given points (sorted, deduplicated, inside the array). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

const plain = (e: TelnetEvent) => (e.kind === 'subnegotiate' ? { ...e, payload: [...e.payload] } : e);

describe('telnet framing', () => {
  test('data with 0xFF, negotiations and subnegotiations interleaved, cut anywhere, decode to the same data and events in order', () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant('negotiate' as const), verb: fc.constantFrom(WILL, DO, 0xfc, 0xfe), option: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('subnegotiate' as const), option: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 12 }) }),
    );
    const piece = fc.oneof(fc.uint8Array({ maxLength: 40 }).map((d) => ({ data: d })), command.map((c) => ({ command: c })));
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (pieces, cuts) => {
      const wire: number[] = [];
      const data: number[] = [];
      const events: TelnetEvent[] = [];
      for (const p of pieces) {
        if ('data' in p) {
          wire.push(...escapeData(p.data));
          data.push(...p.data);
        } else if (p.command.kind === 'negotiate') {
          wire.push(...negotiation(p.command.verb, p.command.option));
          events.push(p.command);
        } else {
          wire.push(...subnegotiation(p.command.option, p.command.payload));
          events.push(p.command);
        }
      }
      const decoder = new TelnetDecoder();
      const gotData: number[] = [];
      const gotEvents: TelnetEvent[] = [];
      for (const chunk of cut(Uint8Array.from(wire), cuts)) {
        const r = decoder.decode(chunk);
        gotData.push(...r.data);
        gotEvents.push(...r.events);
      }
      expect(gotData).toEqual(data);
      expect(gotEvents.map(plain)).toEqual(events.map(plain));
    }), { numRuns: 3000 });
  });

  test('without BINARY, CR goes out as CR NUL unless LF follows, and comes back as CR', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const decoder = new TelnetDecoder(() => true);
      const back: number[] = [];
      for (const chunk of cut(escapeData(bytes, true), cuts)) back.push(...decoder.decode(chunk).data);
      expect(back).toEqual([...bytes]);
    }), { numRuns: 2000 });
    expect([...escapeData(Uint8Array.of(0x0d, 0x41, 0x0d, 0x0a, IAC), true)]).toEqual([0x0d, 0, 0x41, 0x0d, 0x0a, IAC, IAC]);
  });

  test('a subnegotiation that never ends is bounded, and data resumes after its IAC SE', () => {
    const decoder = new TelnetDecoder();
    const start = decoder.decode(Uint8Array.of(IAC, 0xfa, OPTION.COM_PORT, ...new Uint8Array(100_000).fill(7)));
    expect(start.events).toEqual([]);
    const end = decoder.decode(Uint8Array.of(IAC, 0xf0, 0x41));
    expect([...end.data]).toEqual([0x41]);
    expect(end.events[0]!.kind === 'subnegotiate' && end.events[0].payload.length).toBe(4096);
  });
});
