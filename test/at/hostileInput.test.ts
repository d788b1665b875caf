/**
 * Every hostile character through every public entry that builds a command: the C0 controls, DEL, and every UTF-16
 * unit above 0xFF whose low byte is one of them (written as latin1 it would become that control: U+010D → CR,
 * U+011A → Ctrl-Z). Each must be refused with INVALID_ARGUMENT, and the trace must show that nothing was written.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { ScriptedPort } from '../../src/at/ScriptedPort.js';
import { VirtualModule } from '../../src/emulator/index.js';
import { isQuectelError } from '../../src/errors.js';
import { Modem } from '../../src/modem/Modem.js';

const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f];
/** Every hostile UTF-16 unit: the controls themselves and each unit whose low byte is a control. */
const HOSTILE: string[] = [
  ...CONTROLS.map((c) => String.fromCharCode(c)),
  ...Array.from({ length: 0xff }, (_, hi) => CONTROLS.map((lo) => String.fromCharCode(((hi + 1) << 8) | lo))).flat(),
];
/** Commands a caller might build around user text. */
const TEMPLATES = ['AT+CSQ', 'AT+QIDNSGIP=1,"%"', 'AT+QFDEL="%"', 'AT+QSSLOPEN=1,1,0,"%",443,0', 'AT+QICSGP=1,1,"%","","",0'];
const build = (template: string, text: string) => (template.includes('%') ? template.replace('%', text) : `${template}${text}`);
const refused = (e: unknown) => isQuectelError(e, 'INVALID_ARGUMENT');

test(`${HOSTILE.length} hostile units, at every template, through AtClient: refused, nothing written`, async () => {
  const port = new ScriptedPort([]); // any byte written fails the script
  const trace: AtTraceEvent[] = [];
  const at = await AtClient.open(port, { trace: (e) => trace.push(e) });
  for (const unit of HOSTILE) {
    for (const t of TEMPLATES) {
      await expect(at.send(build(t, `a${unit}AT+QPOWD=1`))).rejects.toSatisfy(refused);
      await expect(at.engine.send({ command: build(t, unit) })).rejects.toSatisfy(refused);
    }
  }
  expect(port.written.length).toBe(0);
  expect(trace.filter((e) => e.dir === 'out')).toEqual([]);
  await port.done();
  await at.close();
});

test('any non-ASCII text at any position is refused (the same for printable Unicode: é, 中, an emoji)', async () => {
  const port = new ScriptedPort([]);
  const at = await AtClient.open(port);
  await fc.assert(fc.asyncProperty(
    fc.string({ unit: 'grapheme-ascii', maxLength: 20 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => /[^\x20-\x7e]/.test(s)), fc.nat(),
    async (ascii, bad, pos) => {
      const at0 = pos % (ascii.length + 1);
      await expect(at.send(`AT+QFDEL="${ascii.slice(0, at0)}${bad}${ascii.slice(at0)}"`)).rejects.toSatisfy(refused);
    },
  ), { numRuns: 2000 });
  expect(port.written.length).toBe(0);
  await at.close();
});

test('bytes passed on purpose are written as given; CR or LF among them is still refused', async () => {
  const port = new ScriptedPort([{ expect: Buffer.from('AT+X=\xe9\x00\r', 'latin1'), reply: '\r\nOK\r\n' }]);
  const at = await AtClient.open(port);
  expect((await at.send(Buffer.from('AT+X=\xe9\x00', 'latin1'))).final).toBe('OK');
  await expect(at.send(Buffer.from('AT\rAT+QPOWD'))).rejects.toSatisfy(refused);
  await expect(at.send(Buffer.from('AT\nAT+QPOWD'))).rejects.toSatisfy(refused);
  await port.done();
  await at.close();
});

describe('through the Modem', () => {
  let module: VirtualModule;
  let modem: Modem;
  const trace: AtTraceEvent[] = [];
  beforeAll(async () => {
    module = new VirtualModule({ model: 'EC25' });
    modem = await Modem.open(module, { at: { trace: (e) => trace.push(e) } });
  });
  afterAll(async () => {
    await modem.close();
    module.dispose();
  });

  test('modem.send refuses every hostile unit and writes nothing', async () => {
    const before = trace.filter((e) => e.dir === 'out').length;
    const seen: string[] = [];
    module.on('command', (l) => seen.push(l));
    for (const unit of HOSTILE) await expect(modem.send(`AT+CSQ${unit}AT+QPOWD=1`)).rejects.toSatisfy(refused);
    expect(trace.filter((e) => e.dir === 'out').length).toBe(before);
    expect(seen).toEqual([]);
    expect((await modem.send('AT+CSQ')).final).toBe('OK'); // and the module is still up
  });

  test('Modem.open refuses hostile APN, user and password before opening anything', async () => {
    let opened = 0;
    const factory = async () => {
      opened++;
      throw new Error('must not be called');
    };
    const samples = HOSTILE.filter((_, i) => i % 7 === 0).concat(['"', ',', 'é']);
    for (const unit of samples) {
      for (const apn of [{ apn: `inter${unit}net` }, { apn: 'internet', user: `u${unit}` }, { apn: 'internet', password: `p${unit}w` }]) {
        await expect(Modem.open(factory, { apn })).rejects.toSatisfy(refused);
      }
    }
    expect(opened).toBe(0);
  });
});
