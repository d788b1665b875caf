/**
 * Splitting helpers for parser tests: every transcript runs whole and cut into random 1–8 byte chunks
 * (lessons.md §12.2), with a seeded generator so a failure names the seed that reproduces it.
 */

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` cut into chunks of `min`–`max` bytes chosen by `seed`. */
export function randomChunks(bytes: Uint8Array, seed: number, min = 1, max = 8): Uint8Array[] {
  const rand = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = min + Math.floor(rand() * (max - min + 1));
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** The splits every parser test runs: whole, then `seeds` random 1–8 byte cuttings. */
export function splits(bytes: Uint8Array, seeds = 10): Array<{ name: string; chunks: Uint8Array[] }> {
  return [
    { name: 'whole', chunks: [bytes] },
    ...Array.from({ length: seeds }, (_, s) => ({ name: `1-8 byte chunks, seed ${s + 1}`, chunks: randomChunks(bytes, s + 1) })),
  ];
}

export const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
