/**
 * The 16-bit checksum that `AT+QFUPL` and `AT+QFDWL` report (BG96 FILE AT Commands Manual, AT+QFUPL):
 * XOR of the big-endian 16-bit words of the data; an odd trailing byte counts as the high byte of a last word.
 */
export function quectelChecksum(data: Uint8Array): number {
  const acc = new ChecksumAccumulator();
  acc.update(data);
  return acc.value;
}

/**
 * The same checksum computed over data that arrives in pieces, in one pass: a byte at an even offset of the whole
 * contributes its value shifted into the high half, one at an odd offset its value, and XOR does not care about
 * order, so each piece is folded in as it comes and nothing is kept.
 */
export class ChecksumAccumulator {
  private ck = 0;
  /** Bytes folded in so far. */
  length = 0;

  /** Folds in `data`, or only its bytes from `from` up to `to`. */
  update(data: Uint8Array, from = 0, to = data.length): void {
    let ck = this.ck;
    let i = from;
    if ((this.length & 1) === 1 && i < to) ck ^= data[i++]!;
    for (; i + 1 < to; i += 2) ck ^= (data[i]! << 8) | data[i + 1]!;
    if (i < to) ck ^= data[i]! << 8;
    this.ck = ck;
    this.length += to - from;
  }

  /** The checksum of everything folded in. */
  get value(): number {
    return this.ck & 0xffff;
  }

  /** The checksum without the last `tail.length` bytes, which must be the bytes last folded in. */
  valueWithout(tail: Uint8Array): number {
    let ck = this.ck;
    const start = this.length - tail.length;
    for (let i = 0; i < tail.length; i++) ck ^= ((start + i) & 1) === 0 ? tail[i]! << 8 : tail[i]!;
    return ck & 0xffff;
  }
}

/** The checksum as the module prints it: lowercase hex, no zero padding (`f5f`, `d35`). */
export function formatChecksum(ck: number): string {
  return ck.toString(16);
}

/** Parses a printed checksum; modules differ in case (the manual's own example is `B34A`). */
export function parseChecksum(text: string): number | undefined {
  return /^[0-9a-fA-F]{1,4}$/.test(text) ? Number.parseInt(text, 16) : undefined;
}
