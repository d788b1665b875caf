/**
 * The 16-bit checksum that `AT+QFUPL` and `AT+QFDWL` report (BG96 FILE AT Commands Manual, AT+QFUPL):
 * XOR of the big-endian 16-bit words of the data; an odd trailing byte counts as the high byte of a last word.
 */
export function quectelChecksum(data: Uint8Array): number {
  let ck = 0;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) ck ^= (data[i]! << 8) | data[i + 1]!;
  if (even !== data.length) ck ^= data[even]! << 8;
  return ck & 0xffff;
}

/** The checksum as the module prints it: lowercase hex, no zero padding (`f5f`, `d35`). */
export function formatChecksum(ck: number): string {
  return ck.toString(16);
}

/** Parses a printed checksum; modules differ in case (the manual's own example is `B34A`). */
export function parseChecksum(text: string): number | undefined {
  return /^[0-9a-fA-F]{1,4}$/.test(text) ? Number.parseInt(text, 16) : undefined;
}
