/**
 * Attack on the AT engine (src/at): what a user relies on when the module side is hostile or the user's own
 * command text is unusual. Each test fails on the code it was written against when it shows a defect.
 */
import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { prepareCommand } from '../../src/at/commandLine.js';
import { ScriptedPort } from '../../src/at/ScriptedPort.js';
import { parseCommandLine } from '../../src/emulator/parseCommandLine.js';
import { VirtualModule } from '../../src/emulator/index.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { settle, within } from '../attack/harness.js';

const disposers: Array<() => unknown> = [];
afterEach(async () => {
  for (const d of disposers.splice(0).reverse()) await d();
});

// ---------------------------------------------------------------------------------------------------------------
// Secrets: the trace must hide a PSK / key password however the user spaces the command, as long as the module
// takes it as the same command.
// ---------------------------------------------------------------------------------------------------------------

const PSK = 'S3cretPSKvalue';

test('a PSK typed as AT+QSSLCFG= "psk",… (space after =) is hidden from the trace, as the module stores it', async () => {
  // The module (the virtual one, with its own independent parser) accepts the spaced form and stores the key.
  const m = new VirtualModule({ model: 'EC25' });
  disposers.push(() => m.dispose());
  const raw = new RawAtSession(linkOf(m));
  await raw.waitLines(['RDY']);
  expect((await raw.send(`AT+QSSLCFG= "psk",1,"ident","${PSK}"`)).final).toBe('OK');
  expect((await raw.send('AT+QSSLCFG="psk",1')).lines[0]).toBe(`+QSSLCFG: "psk",1,"ident","${PSK}"`);

  // The library's engine, on a module that answers OK: the trace must not show the key.
  const trace: AtTraceEvent[] = [];
  const port = new ScriptedPort([
    { expect: /^AT\+QSSLCFG= "psk"/, reply: '\r\nOK\r\n' },
    { expect: /^AT\+QSSLCFG="psk" ,/, reply: '\r\nOK\r\n' },
  ]);
  const at = await AtClient.open(port, { trace: (e) => trace.push(e) });
  disposers.push(() => at.close());
  await at.send(`AT+QSSLCFG= "psk",1,"ident","${PSK}"`);
  await at.send(`AT+QSSLCFG="psk" ,1,"ident","${PSK}"`);
  const shown = trace.map((t) => t.text ?? '').join('\n');
  expect(shown).not.toContain(PSK);
});

/**
 * The class: for every command whose secret argument the redaction rules name by a sub-setting (`"psk"`,
 * `"clientkey"`, `"account"`), spaces around the arguments that the module's parser ignores must not defeat the
 * redaction. The module's parser (src/emulator/parseCommandLine.ts) is the oracle for "the same command".
 */
test('property: spaces the module ignores around arguments never expose a secret in the shown command', () => {
  const spaces = fc.constantFrom('', ' ', '  ');
  const secret = fc.stringMatching(/^[A-Za-z0-9]{6,16}$/);
  const shapes = fc.constantFrom(
    { name: '+QSSLCFG', setting: 'psk', args: (s: string) => ['"psk"', '1', '"ident"', `"${s}"`] },
    { name: '+QSSLCFG', setting: 'clientkey', args: (s: string) => ['"clientkey"', '1', '"UFS:ck.pem"', `"${s}"`] },
    { name: '+QFTPCFG', setting: 'account', args: (s: string) => ['"account"', '"bob"', `"${s}"`] },
  ).map((x) => Object.assign(x, { toString: () => `${x.name}="${x.setting}"` }));
  fc.assert(fc.property(shapes, secret, fc.array(spaces, { minLength: 8, maxLength: 8 }), (shape, s, sp) => {
    const args = shape.args(s).map((a, i) => `${sp[2 * i]}${a}${sp[2 * i + 1]}`);
    const line = `AT${shape.name}=${args.join(',')}`;
    // Precondition: the module reads the same arguments as without the spaces.
    const parsed = parseCommandLine(line);
    fc.pre(parsed !== undefined && parsed.args.map((a) => a.text).join('|') === shape.args(s).map((a) => a.replace(/"/g, '')).join('|'));
    const shown = prepareCommand({ command: line }).shown;
    if (shown.includes(s)) throw new Error(`the module takes ${JSON.stringify(line)} as the same command, and the trace shows ${JSON.stringify(shown)}`);
  }), { numRuns: 300 });
});

// ---------------------------------------------------------------------------------------------------------------
// Resets in the middle of a data phase.
// ---------------------------------------------------------------------------------------------------------------

test('a module restart in the middle of AT+QFDWL ends the download within seconds, not after the 10-minute deadline', async () => {
  // The file starts, then the module resets (brown-out): its boot banner follows the first bytes. No trailer will
  // ever come. FileService.download gives AT+QFDWL 600 s; the engine must notice the restart well before that.
  const port = new ScriptedPort([
    { expect: 'AT+QFDWL="f.pem"\r', reply: ['\r\nCONNECT\r\n-----BEGIN CERT', { delayMs: 50 }, '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nAPP RDY\r\n'] },
  ]);
  const at = await AtClient.open(port);
  disposers.push(() => at.close());
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  const r = await within(settle(at.send('AT+QFDWL="f.pem"', { download: true, expect: ['+QFDWL:'], timeoutMs: 600_000 })), 8000);
  expect(r, 'the download was still pending 8 s after the module restarted').not.toBe('HUNG');
  expect(resets).toContain('RDY');
});

test('a module restart that cuts a +QSSLRECV block short is reported as a reset, not swallowed as data', async () => {
  // `+QSSLRECV: 100` then 10 bytes, then the module restarts. The boot banner must not be taken as the other 90
  // bytes of data: the host must learn that the module restarted (its sockets and contexts are gone).
  const banner = '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n\r\nAPP RDY\r\n';
  const port = new ScriptedPort([
    { expect: 'AT+QSSLRECV=0,100\r', reply: ['\r\n+QSSLRECV: 100\r\n0123456789', { delayMs: 50 }, banner] },
  ]);
  const at = await AtClient.open(port);
  disposers.push(() => at.close());
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  const r = await within(settle(at.send('AT+QSSLRECV=0,100', { timeoutMs: 3000 })), 8000);
  expect(r).not.toBe('HUNG');
  if (r !== 'HUNG' && r.ok) {
    // Whatever the outcome, the banner must not come back as received TLS data.
    expect(Buffer.from(r.value.data).toString('latin1')).not.toContain('RDY');
  }
  expect(resets, 'no reset event: the RDY was consumed as socket data').toContain('RDY');
});

// ---------------------------------------------------------------------------------------------------------------
// Many queued commands.
// ---------------------------------------------------------------------------------------------------------------

test('2,000 commands queued with one AbortSignal (one per session) run without a MaxListenersExceeded leak warning', async () => {
  const n = 2000;
  const port = new ScriptedPort(Array.from({ length: n }, () => ({ expect: 'AT\r', reply: '\r\nOK\r\n' })));
  const at = await AtClient.open(port);
  disposers.push(() => at.close());
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  disposers.push(() => process.off('warning', onWarning));
  const session = new AbortController();
  const results = await Promise.allSettled(Array.from({ length: n }, () => at.send('AT', { signal: session.signal })));
  expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  await new Promise((r) => setImmediate(r));
  expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
});

// ---------------------------------------------------------------------------------------------------------------
// Late results.
// ---------------------------------------------------------------------------------------------------------------

test('AT+QIOPEN with the connect id written as 01 completes when the module answers +QIOPEN: 1,0 (not after 150 s)', async () => {
  // The module reads <connectID> as a number (the virtual one does: intArg), so `01` is id 1 and its result line
  // is `+QIOPEN: 1,0`. The dialect waits for the text `+QIOPEN: 01,` instead.
  const port = new ScriptedPort([
    { expect: 'AT+QIOPEN=1,01,"TCP","127.0.0.1",80,0,0\r', reply: ['\r\nOK\r\n', { delayMs: 20 }, '\r\n+QIOPEN: 1,0\r\n'] },
  ]);
  const at = await AtClient.open(port);
  disposers.push(() => at.close());
  const r = await within(settle(at.send('AT+QIOPEN=1,01,"TCP","127.0.0.1",80,0,0')), 5000);
  expect(r, 'still waiting for "+QIOPEN: 01," after the module answered "+QIOPEN: 1,0"').not.toBe('HUNG');
});
