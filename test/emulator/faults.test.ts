/**
 * The fault knobs a test turns (§10 item 16): each reproduces something a real module does.
 */
import { SerialPortStream } from '@serialport/stream';
import { afterEach, expect, test } from 'vitest';
import { createEmulatorBinding, VirtualModule } from '../../src/emulator/index.js';
import { ModuleTap } from '../helpers/ModuleTap.js';

const modules: VirtualModule[] = [];
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});

async function ready(): Promise<ModuleTap> {
  const m = new VirtualModule({ model: 'BG96', boot: { rebootSilenceMs: 50 } });
  modules.push(m);
  const tap = new ModuleTap(m);
  await tap.booted();
  await tap.command('ATE0');
  return tap;
}

test('a reset in the middle of a command: no response, silence, then the banner', async () => {
  const tap = await ready();
  tap.module.faults.resetDuringCommand('AT+QIACT');
  tap.write('AT+QIACT=1\r');
  const r = (await tap.until('\r\nRDY\r\n')).toString('latin1');
  expect(r).toBe('\r\nRDY\r\n');
  await tap.booted();
  expect(await tap.command('AT')).toBe('AT\r\r\nOK\r\n');
});

test('a dropped response never comes; a late one comes after the delay, and input waits for it', async () => {
  const tap = await ready();
  tap.module.faults.dropResponse('AT+CPIN');
  tap.write('AT+CPIN?\r');
  await new Promise((r) => setTimeout(r, 100));
  expect(tap.pending.length).toBe(0);
  tap.module.faults.delayResponse(200, 'AT+CGMM');
  const t0 = Date.now();
  tap.write('AT+CGMM\rAT\r');
  const r = await tap.until('\r\nOK\r\n\r\nOK\r\n');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  expect(r.toString('latin1')).toBe('\r\nBG96\r\n\r\nOK\r\n\r\nOK\r\n');
});

test('garbage bytes and 1-byte drips', async () => {
  const tap = await ready();
  const reads: number[] = [];
  tap.module.on('output', (c) => reads.push(c.length));
  tap.module.faults.garbage('\x00\xff~junk');
  expect((await tap.until('junk')).toString('latin1')).toBe('\x00\xff~junk');
  tap.module.faults.drip();
  reads.length = 0;
  expect(await tap.command('ATI')).toBe('\r\nQuectel\r\nBG96\r\nRevision: BG96MAR02A07M1G\r\n\r\nOK\r\n');
  expect(Math.max(...reads)).toBe(1);
});

test('unplug: the serialport stream closes as disconnected, opens fail until replug', async () => {
  const tap = await ready();
  const binding = createEmulatorBinding(tap.module);
  const port = new SerialPortStream({ binding, path: 'emulator:BG96', baudRate: 115_200 });
  await new Promise<void>((r, j) => port.once('open', r).once('error', j));
  const closed = new Promise<Error | null>((r) => port.once('close', (e: Error | null) => r(e)));
  port.on('data', () => {});
  tap.module.faults.unplug();
  const err = await closed;
  expect((err as Error & { disconnected?: boolean } | null)?.disconnected).toBe(true);
  const again = new SerialPortStream({ binding, path: 'emulator:BG96', baudRate: 115_200, autoOpen: false });
  await expect(new Promise((r, j) => again.open((e) => (e ? j(e) : r(undefined))))).rejects.toThrow(/No such file/);
  tap.module.faults.replug();
  await new Promise<void>((r, j) => again.open((e) => (e ? j(e) : r())));
  const got: Buffer[] = [];
  again.on('data', (d: Buffer) => got.push(d));
  again.write('AT\r');
  const deadline = Date.now() + 2000;
  while (!Buffer.concat(got).includes('OK\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(Buffer.concat(got).toString('latin1')).toBe('\r\nOK\r\n');
  await new Promise<void>((r) => again.close(() => r()));
});

test('a second open of the same module is refused like a locked port', async () => {
  const tap = await ready();
  const binding = createEmulatorBinding(tap.module);
  const a = await binding.open({ path: 'emulator:BG96', baudRate: 115_200 });
  await expect(binding.open({ path: 'emulator:BG96', baudRate: 115_200 })).rejects.toThrow(/Cannot lock port/);
  await a.close();
});

test('dispose() settles a pending read on its port as a disconnect', async () => {
  const tap = await ready();
  const port = new SerialPortStream({ binding: createEmulatorBinding(tap.module), path: 'emulator:BG96', baudRate: 115_200 });
  await new Promise<void>((r, j) => port.once('open', r).once('error', j));
  port.on('data', () => {});
  const closed = new Promise<Error | null>((r) => port.once('close', (e: Error | null) => r(e)));
  tap.module.dispose();
  expect(((await closed) as (Error & { disconnected?: boolean }) | null)?.disconnected).toBe(true);
});

test('a reset while a command waits for its payload (an upload here): after the boot the module answers again', async () => {
  const { VirtualModule: VM, RawAtSession: Raw, linkOf: link } = await import('../../src/emulator/index.js');
  const m = new VM({ model: 'EC25', boot: { rebootSilenceMs: 10 } });
  try {
    const at = new Raw(link(m));
    await at.waitUrc(/^RDY$/);
    await at.send('ATE0');
    m.write(Buffer.from('AT+QFUPL="x.bin",100,5\r'));
    await new Promise((r) => setTimeout(r, 20));
    m.faults.reset();
    await at.waitUrc(/^RDY$/, 2000);
    expect((await at.send('AT', undefined, 2000)).final).toBe('OK');
  } finally {
    m.dispose();
  }
});
