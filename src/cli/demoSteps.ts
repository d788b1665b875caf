/**
 * The demo's bookkeeping: each step is timed and charged the AT commands written while it ran (counted by the
 * trace hook), printed as one line of a table as soon as it ends, and kept for `--json`. What a TLS step did on the
 * module (listing, uploads, SSL context, open) is read back from the commands it cost.
 */
import { describeError } from './exitCodes.js';
import { formatMs, println } from './output.js';
import type { AtMeter } from './target.js';

/** One step as `--json` prints it. */
export interface StepRecord {
  readonly example: string;
  readonly step: string;
  readonly ms: number;
  readonly atCommands: number;
  readonly ok: boolean;
  readonly result: string;
  /** The commands it wrote (secrets redacted by the engine). */
  readonly commands: readonly string[];
}

const STEP_WIDTH = 34;

/** Runs steps, prints a line per step (unless printing JSON at the end), and keeps the records. */
export class DemoSteps {
  readonly records: StepRecord[] = [];

  constructor(private readonly meter: AtMeter, private readonly json: boolean) {}

  /** Prints the table header. */
  header(): void {
    if (!this.json) println(`${'step'.padEnd(STEP_WIDTH)} ${'time'.padStart(8)} ${'AT'.padStart(3)}  result`);
  }

  /** Prints a heading before a group of steps. */
  section(title: string): void {
    if (!this.json) println(`\n${title}`);
  }

  /** A line of prose under the table (what a failure means). */
  note(text: string): void {
    if (!this.json) println(`  ${text}`);
  }

  /** Runs one step; `describe` turns its value and the commands it cost into the result column. */
  async run<T>(example: string, step: string, work: () => Promise<T>,
    describe: (value: T, commands: readonly string[]) => string): Promise<T> {
    const mark = this.meter.count;
    const t0 = performance.now();
    let value: T;
    try {
      value = await work();
    } catch (e) {
      this.add({ example, step, ms: performance.now() - t0, atCommands: this.meter.count - mark, ok: false,
        result: `failed: ${describeError(e).message}`, commands: this.meter.since(mark) });
      throw e;
    }
    const commands = this.meter.since(mark);
    this.add({ example, step, ms: performance.now() - t0, atCommands: commands.length, ok: true, result: describe(value, commands), commands });
    return value;
  }

  private add(r: StepRecord): void {
    const rounded = { ...r, ms: Math.round(r.ms * 10) / 10 };
    this.records.push(rounded);
    if (this.json) return;
    const name = r.step.length > STEP_WIDTH ? `${r.step.slice(0, STEP_WIDTH - 1)}…` : r.step.padEnd(STEP_WIDTH);
    println(`${name} ${formatMs(r.ms).padStart(8)} ${String(r.atCommands).padStart(3)}  ${r.result}`);
  }
}

/** `AT+QFUPL="cc1a2b3c.pem",1234,10` → `cc1a2b3c.pem`. */
const uploadedName = (c: string) => /^AT\+QFUPL="([^"]+)"/.exec(c)?.[1];

/**
 * What a TLS open did on the module, from its commands: the TCP connection it replaced, the listing, the uploads
 * and the credentials it found already there, the SSL context, the open.
 */
export function tlsWork(commands: readonly string[], credentials: readonly string[]): string {
  const parts: string[] = [];
  if (commands.some((c) => c.startsWith('AT+QICLOSE='))) parts.push('TCP closed and the peer reopened through TLS');
  const uploads = commands.map(uploadedName).filter((n): n is string => n !== undefined);
  const skipped = credentials.filter((n) => !uploads.includes(n));
  if (uploads.length > 0) parts.push(`uploaded ${uploads.join(', ')} (size and checksum verified)`);
  if (skipped.length > 0) parts.push(`${skipped.join(', ')} already on the module: not uploaded`);
  if (credentials.length === 0) parts.push('no certificate to upload');
  const cfg = commands.filter((c) => c.startsWith('AT+QSSLCFG=')).length;
  parts.push(cfg > 0 ? `SSL context configured (${cfg} AT+QSSLCFG)` : 'SSL context already configured');
  if (commands.some((c) => c.startsWith('AT+QSSLOPEN='))) parts.push('handshake done (AT+QSSLOPEN)');
  return parts.join('; ');
}

/** The demo servers end their answer with `Hello from <name>: TLS <version>, <suite>, client <CN>`. */
export function serverReport(body: string): { readonly version: string; readonly suite: string; readonly client: string } | undefined {
  const m = /TLS (TLSv[\d.]+), (\S+), client (.+?)\s*$/m.exec(body);
  return m ? { version: m[1]!, suite: m[2]!, client: m[3]! } : undefined;
}
