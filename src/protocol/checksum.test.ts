import { describe, expect, it } from 'vitest';
import { formatChecksum, parseChecksum, quectelChecksum } from './checksum.js';

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
