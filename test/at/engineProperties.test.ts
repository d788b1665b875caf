/**
 * The engine against 10,000 random module streams per run (fast-check): replies of every kind, URCs at every legal
 * position, counted data holding `\r\nOK\r\n`, `RDY` and `+QSSLURC:` text, prompts, uploads and downloads that contain
 * their own trailer text, payload echo, `RDY` and `APP RDY` anywhere between frames, all cut at random points.
 * Every command must get exactly its own result and bytes, every URC must arrive exactly once, and nothing may be
 * credited to the wrong command. Seeds that once failed are replayed first (engineProperties.regressions.ts).
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { ScriptedPort, type ScriptReplyPart, type ScriptStep } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';
import { REGRESSIONS } from './engineProperties.regressions.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const crlf = (s: string) => `\r\n${s}\r\n`;

/** Byte strings that broke line parsers elsewhere (lessons.md §11): they must stay payload. */
const TRAPS = ['\r\nOK\r\n', '\r\nERROR\r\n', '\r\nRDY\r\n', '\r\n+QSSLURC: "closed",0\r\n', '\r\n> ', 'SEND OK', '\r\nCONNECT\r\n', '\x00\x1a\x1b\xff'];

const payloadArb = fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.constantFrom(...TRAPS.map(latin1))), { maxLength: 6 })
  .map((parts) => Buffer.concat(parts));

/** A file that holds trailer-like text: a size equal to its own offset with a wrong checksum, or a wrong size. */
const fileArb = fc.tuple(payloadArb, payloadArb, fc.boolean()).map(([a, b, sameOffset]) => {
  const fake = (offset: number) => latin1(`\r\n+QFDWL: ${sameOffset ? offset : offset + 7},${formatChecksum((quectelChecksum(a) ^ 0x5a5a) || 1)}\r\n\r\nOK\r\n`);
  return Buffer.concat([a, fake(a.length), b]);
});

type Kind =
  | { readonly kind: 'info' } | { readonly kind: 'query' } | { readonly kind: 'shared-prefix' }
  | { readonly kind: 'recv'; readonly data: Buffer } | { readonly kind: 'send'; readonly payload: Buffer }
  | { readonly kind: 'upload'; readonly payload: Buffer } | { readonly kind: 'download'; readonly file: Buffer }
  | { readonly kind: 'late' } | { readonly kind: 'cme' } | { readonly kind: 'error' };

const kindArb: fc.Arbitrary<Kind> = fc.oneof(
  fc.constant({ kind: 'info' as const }), fc.constant({ kind: 'query' as const }), fc.constant({ kind: 'shared-prefix' as const }),
  payloadArb.map((data) => ({ kind: 'recv' as const, data })),
  payloadArb.filter((p) => p.length > 0).map((payload) => ({ kind: 'send' as const, payload })),
  payloadArb.filter((p) => p.length > 0).map((payload) => ({ kind: 'upload' as const, payload })),
  fileArb.map((file) => ({ kind: 'download' as const, file })),
  fc.constant({ kind: 'late' as const }), fc.constant({ kind: 'cme' as const }), fc.constant({ kind: 'error' as const }),
);

/** Something the module says on its own between frames. */
type Insert = 'urc' | 'push' | 'app-rdy' | 'rdy';
const insertArb = fc.constantFrom<Insert>('urc', 'urc', 'push', 'app-rdy', 'rdy');

interface Scenario {
  readonly echo: boolean;
  readonly payloadEcho: boolean;
  readonly commands: ReadonlyArray<{
    readonly kind: Kind;
    readonly inserts: ReadonlyArray<{ at: number; what: Insert }>;
    readonly leftover: readonly string[];
  }>;
  readonly chunks: { readonly min: number; readonly max: number; readonly seed: number };
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  echo: fc.boolean(),
  payloadEcho: fc.boolean(),
  commands: fc.array(fc.record({
    kind: kindArb,
    inserts: fc.array(fc.record({ at: fc.nat(6), what: insertArb }), { maxLength: 3 }),
    // With echo on, the module may still be printing the previous command's output (a BC66 echoing certificate
    // text after OK) when this command's echo comes: none of it is this command's reply.
    leftover: fc.array(fc.constantFrom('-----BEGIN CERTIFICATE-----', 'MIIBszCCAVmgAwIBAgIUdGVzdA', 'Quectel', 'OK'), { maxLength: 2 }),
  }), { minLength: 1, maxLength: 6 }),
  chunks: fc.oneof(
    fc.record({ min: fc.constant(1), max: fc.integer({ min: 1, max: 8 }), seed: fc.nat() }),
    fc.record({ min: fc.integer({ min: 1, max: 64 }), max: fc.constant(200), seed: fc.nat() }),
  ),
});

interface Expected {
  readonly command: string;
  readonly payload?: Buffer;
  readonly outcome: { lines: string[]; final: string; data: string; late?: string } | { error: string };
}

/** Builds the script (host writes and module replies) and what the engine must report for a scenario. */
function compile(s: Scenario): { steps: ScriptStep[]; expected: Expected[]; urcs: string[]; resets: number; stale: string[] } {
  const steps: ScriptStep[] = [];
  const stale: string[] = [];
  const expected: Expected[] = [];
  const urcs: string[] = [];
  let resets = 0;
  let uniq = 0;
  // Payload echo after `>` needs AT+QISDE=1, which a restart undoes; an upload's echo (BG95) needs only ATE1.
  let dataEcho = s.echo && s.payloadEcho;
  s.commands.forEach(({ kind: k, inserts, leftover }, i) => {
    // An `OK` left over is a final result to an engine that cannot tell: only text lines are printed late here.
    const late = s.echo ? leftover.filter((l) => l !== 'OK') : [];
    stale.push(...late);
    const echo = (line: string) => (s.echo ? `${late.map((l) => `${l}\r\n`).join('')}${line}\r` : '');
    // Segments of the reply; a `null` marks where the host writes the payload. Inserts go only between segments
    // that are whole frames, never inside counted data, a download, or between a prompt and its payload.
    const seg: Array<string | Buffer | null> = [];
    let command: string;
    let payload: Buffer | undefined;
    let outcome: Expected['outcome'];
    let lateLine: string | undefined;
    let afterOk: string[] = [];
    switch (k.kind) {
      case 'info':
        command = 'ATI';
        seg.push(echo(command), crlf(`Quectel ${i}`), `Model ${i}\r\n`, crlf('OK'));
        outcome = { lines: [`Quectel ${i}`, `Model ${i}`], final: 'OK', data: '' };
        break;
      case 'query':
        command = `AT+QTEST${i}?`;
        seg.push(echo(command), crlf(`+QTEST${i}: ${i},"v"`), crlf('OK'));
        outcome = { lines: [`+QTEST${i}: ${i},"v"`], final: 'OK', data: '' };
        break;
      case 'shared-prefix': // its own reply prefix is also a URC prefix (+CREG:)
        command = 'AT+CREG?';
        seg.push(echo(command), crlf(`+CREG: 0,${i % 6}`), crlf('OK'));
        outcome = { lines: [`+CREG: 0,${i % 6}`], final: 'OK', data: '' };
        break;
      case 'recv':
        command = `AT+QSSLRECV=${i},1500`;
        seg.push(echo(command), Buffer.concat([latin1(crlf(`+QSSLRECV: ${k.data.length}`)), k.data, latin1(k.data.length > 0 ? '\r\n' : '')]), crlf('OK'));
        outcome = { lines: [`+QSSLRECV: ${k.data.length}`], final: 'OK', data: k.data.toString('hex') };
        break;
      case 'send':
        command = `AT+QSSLSEND=${i},${k.payload.length}`;
        payload = k.payload;
        seg.push(echo(command), '\r\n> ', null, dataEcho ? k.payload : '', crlf('SEND OK'));
        outcome = { lines: [], final: 'SEND OK', data: '' };
        break;
      case 'upload': {
        command = `AT+QFUPL="f${i}.bin",${k.payload.length},5`;
        payload = k.payload;
        const line = `+QFUPL: ${k.payload.length},${formatChecksum(quectelChecksum(k.payload))}`;
        // Real BG96/EC25: the result follows the last payload byte with no CR LF before it (§6.1).
        seg.push(echo(command), crlf('CONNECT'), null, Buffer.concat([s.echo && s.payloadEcho ? k.payload : Buffer.alloc(0), latin1(`${line}\r\n`)]), crlf('OK'));
        outcome = { lines: [line], final: 'OK', data: '' };
        break;
      }
      case 'download': {
        command = `AT+QFDWL="f${i}.bin"`;
        const trailer = `+QFDWL: ${k.file.length},${formatChecksum(quectelChecksum(k.file))}`;
        seg.push(echo(command), Buffer.concat([latin1(crlf('CONNECT')), k.file, latin1(crlf(trailer))]), crlf('OK'));
        outcome = { lines: [trailer], final: 'OK', data: k.file.toString('hex') };
        break;
      }
      case 'late':
        command = `AT+QSSLOPEN=1,1,${i},"h${i}.test",443,0`;
        lateLine = `+QSSLOPEN: ${i},0`;
        seg.push(echo(command), crlf('OK'));
        afterOk = [crlf(lateLine)];
        outcome = { lines: [], final: 'OK', data: '', late: lateLine };
        break;
      case 'cme':
        command = `AT+QFDEL="x${i}"`;
        seg.push(echo(command), crlf('+CME ERROR: 405'));
        outcome = { error: 'AT_CME_ERROR' };
        break;
      case 'error':
        command = `AT+QIDEACT=${i + 1}`;
        seg.push(echo(command), crlf('ERROR'));
        outcome = { error: 'AT_ERROR' };
        break;
    }
    const all = [...seg, ...afterOk];
    // Legal gaps: before segment j, for j in 1..all.length (after the echo, never inside a data phase).
    const gaps = all.map((_, j) => j).filter((j) => j === 0 || (all[j - 1] !== null && !(all[j - 1] === '\r\n> ' || all[j - 1] === crlf('CONNECT') && (k.kind === 'upload'))));
    const withInserts: Array<string | Buffer | null> = [];
    let resetAfterOkBeforeLate = false;
    const okIndex = seg.length; // afterOk starts here
    all.forEach((part, j) => {
      for (const ins of inserts) {
        if (gaps.length === 0 || gaps[ins.at % gaps.length] !== j) continue;
        uniq++;
        switch (ins.what) {
          case 'urc': withInserts.push(crlf(`+QSSLURC: "closed",${uniq}`)); urcs.push(`+QSSLURC: "closed",${uniq}`); break;
          case 'push': {
            const data = latin1(`\r\nOK\r\nRDY\r\n${uniq}`);
            withInserts.push(Buffer.concat([latin1(crlf(`+QSSLURC: "recv",9,${data.length}`)), data, latin1('\r\n')]));
            urcs.push(`+QSSLURC: "recv",9,${data.length} ${data.toString('hex')}`);
            break;
          }
          case 'app-rdy': withInserts.push(crlf('APP RDY')); urcs.push('APP RDY'); break;
          case 'rdy':
            withInserts.push(crlf('RDY'));
            resets++;
            dataEcho = false;
            // A restart before the payload: the module no longer echoes it.
            if (k.kind === 'send' && !withInserts.includes(null)) all[3] = '';
            if (lateLine !== undefined && j >= okIndex) resetAfterOkBeforeLate = true;
            break;
        }
      }
      withInserts.push(part);
    });
    // A late result also reaches URC subscribers (services watch `+QSSLOPEN:`); after a restart between OK and
    // it, it is only that: the open has failed.
    if (lateLine !== undefined) urcs.push(lateLine);
    if (lateLine !== undefined && resetAfterOkBeforeLate) outcome = { error: 'AT_MODULE_RESET' };
    const cut = withInserts.indexOf(null);
    const toParts = (xs: Array<string | Buffer | null>): ScriptReplyPart[] =>
      xs.filter((x): x is string | Buffer => x !== null && x.length > 0);
    if (cut < 0) steps.push({ expect: `${command}\r`, reply: toParts(withInserts) });
    else {
      steps.push({ expect: `${command}\r`, reply: toParts(withInserts.slice(0, cut)) });
      steps.push({ expect: payload!, reply: toParts(withInserts.slice(cut + 1)) });
    }
    expected.push({ command, ...(payload ? { payload } : {}), outcome });
  });
  return { steps, expected, urcs, resets, stale };
}

async function run(s: Scenario): Promise<void> {
  const { steps, expected, urcs, resets, stale } = compile(s);
  // Payload echo after `>` is switched on with AT+QISDE=1 (§7.2); the engine looks for it only then.
  if (s.echo && s.payloadEcho) {
    steps.unshift({ expect: 'AT+QISDE=1\r', reply: 'AT+QISDE=1\r\r\nOK\r\n' });
    expected.unshift({ command: 'AT+QISDE=1', outcome: { lines: [], final: 'OK', data: '' } });
  }
  const port = new ScriptedPort(steps, { chunking: s.chunks });
  const at = await AtClient.open(port, {
    urcDataLength: (line) => {
      const m = /^\+QSSLURC: "recv",\d+,(\d+)$/.exec(line);
      return m ? Number(m[1]) : undefined;
    },
  });
  const seenUrcs: string[] = [];
  const unknown: string[] = [];
  let seenResets = 0;
  at.onUrc('', (line, data) => seenUrcs.push(data ? `${line} ${Buffer.from(data).toString('hex')}` : line));
  at.on('unknown', (l) => unknown.push(l));
  at.on('reset', () => seenResets++);
  try {
    const results = await Promise.all(expected.map(async (e) => {
      try {
        const r = await at.send(e.command, { timeoutMs: 3000, ...(e.payload ? { payload: e.payload } : {}) });
        return { lines: [...r.lines], final: r.final, data: Buffer.from(r.data).toString('hex'), ...(r.late !== undefined ? { late: r.late } : {}) };
      } catch (err) {
        return { error: isQuectelError(err) ? err.code : String(err) };
      }
    }));
    expect(results).toEqual(expected.map((e) => e.outcome));
    await port.done(); // what the module says after the last result (a late line) has been read too
    expect(seenUrcs.sort()).toEqual([...urcs].sort());
    expect(seenResets).toBe(resets);
    expect(unknown).toEqual(stale);
  } finally {
    await at.close();
  }
}

const property = fc.asyncProperty(scenarioArb, run);

test('failing seeds kept from earlier runs still pass', async () => {
  for (const r of REGRESSIONS) await fc.assert(property, { seed: r.seed, path: r.path, endOnFailure: true });
});

test('10,000 random module streams: every result intact, every URC once, nothing credited to another command', async () => {
  await fc.assert(property, { numRuns: Number(process.env.ENGINE_PROPERTY_RUNS ?? 10_000) });
}, 300_000);
