/**
 * The framer's cost per MiB, for 64 KiB to 16 MiB of module output read in pieces of 1 byte to 64 KiB: linear
 * framing shows the same time per MiB in every column of a row (the probe that found the defect saw 17 s for 2 MiB
 * of download in 1 KiB reads). Three streams: `+QSSLRECV` reads (1500-byte counted blocks with their framing), an
 * `AT+QFDWL` download whose file is full of trailer-like text, and plain lines. The baseline, measured in the same
 * run, is joining the same pieces into one buffer and scanning it for LF once: the least any framer that keeps
 * the payload must do, with the same per-read overhead.
 *
 * `npm run bench` prints the tables; BENCH_FRAMING_MAX (bytes) lowers the largest size for a quick look.
 */
import { bench, describe } from 'vitest';
import { AtFramer, type FramerMode } from '../src/at/AtFramer.js';
import { formatChecksum, quectelChecksum } from '../src/protocol/checksum.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX = Number(process.env.BENCH_FRAMING_MAX ?? 16 * MiB);
const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB].filter((s) => s <= MAX);
const READS = [1, 64, 1 * KiB, 64 * KiB];

function recvStream(size: number): Buffer {
  const block = Buffer.alloc(1500, 0x41);
  block.write('\r\nOK\r\n+QSSLURC: "recv",0\r\nRDY\r\n', 100, 'latin1');
  const one = Buffer.concat([Buffer.from('\r\n+QSSLRECV: 1500\r\n'), block, Buffer.from('\r\n\r\nOK\r\n')]);
  return Buffer.concat(Array.from({ length: Math.ceil(size / one.length) }, () => one)).subarray(0, Math.floor(size / one.length) * one.length || one.length);
}

function downloadStream(size: number): Buffer {
  const file = Buffer.alloc(size, 0x42);
  // Trailer-like text every 4 KiB, each with a size that equals its own offset and a wrong checksum.
  for (let at = 0; at + 40 < size; at += 4096) file.write(`\r\n+QFDWL: ${at + 2},1\r\n`, at, 'latin1');
  return Buffer.concat([Buffer.from('\r\nCONNECT\r\n'), file, Buffer.from(`\r\n+QFDWL: ${size},${formatChecksum(quectelChecksum(file))}\r\n\r\nOK\r\n`)]);
}

function lineStream(size: number): Buffer {
  const line = Buffer.from('\r\n+QIURC: "recv",3\r\n');
  return Buffer.concat(Array.from({ length: Math.ceil(size / line.length) }, () => line));
}

const STREAMS: Record<string, (size: number) => Buffer> = { '+QSSLRECV reads': recvStream, 'QFDWL download': downloadStream, lines: lineStream };

function modeAfter(line: string): FramerMode | undefined {
  if (line.startsWith('+QSSLRECV: ')) return { data: Number(line.slice(11)) };
  if (line === 'CONNECT') return { download: { trailer: '+QFDWL: ' } };
  return undefined;
}

function pieces(stream: Buffer, read: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += read) out.push(stream.subarray(i, i + read));
  return out;
}

/** Milliseconds per MiB for one pass of `work` over the pieces (best of three, after one warm-up). */
function msPerMiB(chunks: Buffer[], bytes: number, work: (chunks: Buffer[]) => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    work(chunks);
    if (i > 0) best = Math.min(best, performance.now() - t0);
  }
  return best / (bytes / MiB);
}

const frame = (chunks: Buffer[]): void => {
  let frames = 0;
  const framer = new AtFramer({ modeAfter, frame: () => frames++ }, { maxDownloadLength: 64 * MiB });
  for (const c of chunks) framer.push(c);
  if (frames === 0) throw new Error('no frames');
};
const baseline = (chunks: Buffer[]): void => {
  const all = Buffer.concat(chunks);
  let n = 0;
  for (let i = all.indexOf(0x0a); i >= 0; i = all.indexOf(0x0a, i + 1)) n++;
  if (n < 0) throw new Error('unreachable');
};

function table(name: string, make: (size: number) => Buffer): string {
  const rows = [`${name}: ms per MiB (framer / baseline ratio)`, `| size | ${READS.map((r) => `${r >= KiB ? `${r / KiB} KiB` : `${r} B`} reads`).join(' | ')} |`,
    `|---|${READS.map(() => '---').join('|')}|`];
  for (const size of SIZES) {
    const stream = make(size);
    const cells = READS.map((read) => {
      const chunks = pieces(stream, read);
      const f = msPerMiB(chunks, stream.length, frame);
      const b = msPerMiB(chunks, stream.length, baseline);
      return `${f.toFixed(1)} (${(f / b).toFixed(1)}×)`;
    });
    rows.push(`| ${size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`} | ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

describe('framing cost per MiB', () => {
  for (const [name, make] of Object.entries(STREAMS)) {
    let printed = false; // the runner may call a bench more than once; the table is measured and printed once
    bench(name, () => {
      if (printed) return;
      printed = true;
      console.log(`\n${table(name, make)}\n`);
    }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
  }
});
