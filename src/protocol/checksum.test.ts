import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChecksumAccumulator, formatChecksum, parseChecksum, quectelChecksum } from './checksum.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('quectelChecksum', () => {
  it.each([
    ['1234567890', '3938'],
    ['-----BEGIN CERTIFICATE-----\r', '6c53'],
    ['A', '4100'],
    ['AB', '4142'],
    ['ABC', '242'],
    ['', '0'],
    ['Test data from SSL', '7d21'],
  ])('%j → %s', (text, printed) => {
    expect(formatChecksum(quectelChecksum(enc(text)))).toBe(printed);
  });

  it('reads printed checksums in either case', () => {
    expect(parseChecksum('B34A')).toBe(0xb34a);
    expect(parseChecksum('b34a')).toBe(0xb34a);
    expect(parseChecksum('xyz')).toBeUndefined();
  });
});

describe('ChecksumAccumulator', () => {
  /** The definition, word by word, as the manual states it. */
  const byWords = (b: Uint8Array) => {
    let ck = 0;
    for (let i = 0; i < b.length; i += 2) ck ^= (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
    return ck;
  };

  it('gives the manual\'s checksum whatever the pieces, odd and even', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 10 }), (data, cuts) => {
      const acc = new ChecksumAccumulator();
      let at = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        acc.update(data.subarray(at, Math.max(at, Math.min(c, data.length))));
        at = Math.max(at, Math.min(c, data.length));
      }
      acc.update(data.subarray(at));
      expect(acc.value).toBe(byWords(data));
      expect(acc.length).toBe(data.length);
      if (data.length >= 2) expect(acc.valueWithout(data.subarray(data.length - 2))).toBe(byWords(data.subarray(0, data.length - 2)));
    }), { numRuns: 500 });
  });
});
