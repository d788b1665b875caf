/**
 * The commands real hosts send at start-up, per model, byte for byte; the boot: power-on when a host attaches,
 * input sent during the boot answered after RDY (T08), boot URCs routed by the URC port (§10.1).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { MODEL_NAMES, VirtualModule, createEmulatorBinding, type ModelName, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { SerialPortTransport } from '../../src/transport/index.js';
import { ModuleTap } from '../helpers/ModuleTap.js';

const modules: VirtualModule[] = [];
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});

async function ready(options: VirtualModuleOptions): Promise<ModuleTap> {
  const m = new VirtualModule(options);
  modules.push(m);
  const tap = new ModuleTap(m);
  await tap.booted();
  expect(await tap.command('ATE0')).toBe('ATE0\r\r\nOK\r\n');
  return tap;
}

describe('boot', () => {
  test('a module nobody attached to stays silent; the attach powers it on', async () => {
    const m = new VirtualModule({ model: 'BG96' });
    modules.push(m);
    let out = '';
    m.on('output', (c) => (out += c.toString('latin1')));
    await new Promise((r) => setTimeout(r, 100));
    expect(out).toBe('');
    expect(m.ready).toBe(false);
    m.attach();
    const tap = new ModuleTap(m);
    expect(await tap.booted()).toBe('\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n');
  });

  test('a command sent while the module boots is answered right after RDY (T08)', async () => {
    const m = new VirtualModule({ model: 'BG96', boot: { urcGapMs: 500 } });
    modules.push(m);
    const tap = new ModuleTap(m);
    tap.write('AT\r');
    expect((await tap.until('OK\r\n')).toString('latin1')).toBe('\r\nRDY\r\nAT\r\r\nOK\r\n');
  });

  test('AtClient.open: the port\'s open powers the module on, RDY reaches the client, then commands are answered', async () => {
    const m = new VirtualModule({ model: 'BG96' });
    modules.push(m);
    const transport = await SerialPortTransport.open({ path: 'emulator:BG96', binding: createEmulatorBinding(m) });
    const at = await AtClient.open(transport);
    // The binding's open powered the module on; RDY comes before the echo of the first command, never inside it.
    await new Promise<void>((resolve) => {
      let seen = '';
      m.on('output', (c) => {
        seen += c.toString('latin1');
        if (seen.includes('RDY')) resolve();
      });
    });
    expect((await at.send('ATE0')).final).toBe('OK');
    expect((await at.send('AT+CGMM')).lines).toEqual(['BG96']);
    await at.close();
  });

  test('on the main UART with the URC port on USB (the factory default) the boot shows RDY alone (T03, T04, T08)', async () => {
    const m = new VirtualModule({ model: 'BG96', atPort: 'uart1', boot: { urcGapMs: 1 } });
    modules.push(m);
    const tap = new ModuleTap(m);
    await tap.until('\r\nRDY\r\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(tap.take().toString('latin1')).toBe('');
    expect(await tap.command('AT+QURCCFG="urcport"')).toBe('AT+QURCCFG="urcport"\r\r\n+QURCCFG: "urcport","usbat"\r\n\r\nOK\r\n');
  });

  test('BG95 on the main UART: RDY and APP RDY, nothing else (APP RDY reached the UART in T08)', async () => {
    const m = new VirtualModule({ model: 'BG95', atPort: 'uart1', boot: { urcGapMs: 1 } });
    modules.push(m);
    const tap = new ModuleTap(m);
    expect((await tap.until('APP RDY\r\n')).toString('latin1')).toBe('\r\nRDY\r\n\r\nAPP RDY\r\n');
  });
});

/** What each model answers to the queries a host sends at start-up, echo off, registered, nothing active. */
const STARTUP: Record<ModelName, Record<string, string>> = {
  BG96: {
    'AT+COPS?': '+COPS: 0,0,"Test Network",8',
    'AT+QNWINFO': '+QNWINFO: "eMTC","00101","LTE BAND 3",1575',
    'AT+QCSQ': '+QCSQ: "CAT-M1",-65,-94,160,-11',
    'AT+QINISTAT': '+QINISTAT: 3',
    'AT+QCFG="iotopmode"': '+QCFG: "iotopmode",2',
    'AT+QCFG="band"': '+QCFG: "band",0xf,0x400a0e189f,0xa0e189f',
    'AT+QCFG="nwscanseq"': '+QCFG: "nwscanseq",020301',
  },
  BG95: { 'AT+COPS?': '+COPS: 0,0,"Test Network",8', 'AT+QINISTAT': '+QINISTAT: 3' },
  EC25: {
    'AT+COPS?': '+COPS: 0,0,"Test Network",7',
    'AT+QNWINFO': '+QNWINFO: "FDD LTE","00101","LTE BAND 3",1650',
    'AT+QCSQ': '+QCSQ: "LTE",-65,-94,160,-11',
    'AT+QINISTAT': '+QINISTAT: 7',
  },
  // T19: the real band mask of this firmware.
  'EG25-G': { 'AT+QCFG="band"': '+QCFG: "band",0xbff,0x1e00b0e18df,0x0', 'AT+QCFG="nwscanmode"': '+QCFG: "nwscanmode",0' },
  EC200U: { 'AT+COPS?': '+COPS: 0,0,"Test Network",7', 'AT+QCFG="roamservice"': '+QCFG: "roamservice",255' },
  EG800K: { 'AT+COPS?': '+COPS: 0,0,"Test Network",7', 'AT+QINISTAT': '+QINISTAT: 7' },
  BC25: { 'AT+COPS?': '+COPS: 0,0,"Test Network",9', 'AT+CEREG?': '+CEREG: 0,1', 'AT+CGATT?': '+CGATT: 1' },
};

describe('start-up commands per model', () => {
  test.each(MODEL_NAMES.filter((m) => m !== 'BC25'))('%s answers the LTE start-up set', async (model) => {
    const tap = await ready({ model });
    for (const [cmd, line] of Object.entries(STARTUP[model])) expect(await tap.command(cmd), cmd).toBe(`\r\n${line}\r\n\r\nOK\r\n`);
    expect(await tap.command('AT+QSIMSTAT?')).toBe('\r\n+QSIMSTAT: 0,1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QSPN')).toBe('\r\n+QSPN: "Test Network","Test","",0,"00101"\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QCFG="nosuchthing"')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QCFG="nwscanmode",3,1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QCFG="nwscanmode"')).toBe('\r\n+QCFG: "nwscanmode",3,1\r\n\r\nOK\r\n');
    // S16: the DNS query is ERROR before the context is active; afterwards it shows the servers.
    expect(await tap.command('AT+QIDNSCFG=1')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QICSGP=1,1,"internet","","",0')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CGDCONT?')).toBe('\r\n+CGDCONT: 1,"IP","internet","0.0.0.0",0,0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGACT?')).toBe('\r\n+CGACT: 1,0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QIACT=1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CGACT?')).toBe('\r\n+CGACT: 1,1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGPADDR=1')).toBe('\r\n+CGPADDR: 1,"10.7.157.1"\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QIDNSCFG=1,"1.1.1.1","9.9.9.9"')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QIDNSCFG=1')).toBe('\r\n+QIDNSCFG: 1,"1.1.1.1","9.9.9.9"\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGATT?')).toBe('\r\n+CGATT: 1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QICFG=?')).toMatch(/^\r\n\+QICFG: "transpktsize",\(1-1460\)\r\n/);
  });

  test('EG25-G: QICFG=? and QNWCFG=? as firmware 01.003 prints them (T19)', async () => {
    const tap = await ready({ model: 'EG25-G' });
    const qicfg = await tap.command('AT+QICFG=?');
    expect(qicfg).toContain('\r\n+QICFG: "tcp/keepalive",(0,1),(1-120),(25-100),(3-10)\r\n+QICFG: "recv/buffersize",(10240-524288)\r\n+QICFG: "window/scale",(0-1)\r\n\r\nOK\r\n');
    expect(qicfg.match(/\+QICFG: /g)).toHaveLength(15);
    expect(await tap.command('AT+QNWCFG=?')).toBe('\r\nERROR\r\n');
  });

  test('BC25 comes up with the 3GPP commands alone; QSSL, QI and QF commands stay ERROR', async () => {
    const tap = await ready({ model: 'BC25' });
    for (const [cmd, line] of Object.entries(STARTUP.BC25)) expect(await tap.command(cmd), cmd).toBe(`\r\n${line}\r\n\r\nOK\r\n`);
    expect(await tap.command('ATI')).toBe('\r\nQuectel_Ltd\r\nQuectel_BC25\r\nRevision: BC25PAR01A06\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QGMR')).toBe('\r\nBC25PAR01A06_01.001.01.001\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CREG?')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+CGREG?')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+CGDCONT=1,"IP","nb.iot"')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CGDCONT?')).toBe('\r\n+CGDCONT: 1,"IP","nb.iot","0.0.0.0",0,0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGACT?')).toBe('\r\n+CGACT: 1,1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGPADDR=1')).toBe('\r\n+CGPADDR: 1,10.7.157.1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGPADDR')).toBe('\r\n+CGPADDR: 1,10.7.157.1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGATT=0')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CGATT?')).toBe('\r\n+CGATT: 0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGPADDR=1')).toBe('\r\n+CGPADDR: 1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+CGATT=1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CGATT?')).toBe('\r\n+CGATT: 1\r\n\r\nOK\r\n');
    for (const cmd of ['AT+QSSLCFG=?', 'AT+QSSLOPEN=1,1,0,"a.b",443,0', 'AT+QIACT=1', 'AT+QIOPEN=1,0,"TCP","a.b",80',
      'AT+QFLST', 'AT+QURCCFG="urcport"', 'AT+QNWINFO', 'AT+QIDNSCFG=1']) {
      expect(await tap.command(cmd), cmd).toBe('\r\nERROR\r\n');
    }
  });
});

describe('uploads (§6.1)', () => {
  test('BG95 with echo on echoes the bytes of an upload (T22); BG96 does not', async () => {
    for (const [model, echoed] of [['BG95', true], ['BG96', false]] as const) {
      const m = new VirtualModule({ model });
      modules.push(m);
      const tap = new ModuleTap(m);
      await tap.booted();
      tap.write('AT+QFUPL="e.txt",4\r');
      await tap.until('CONNECT\r\n');
      tap.write('abcd');
      const r = (await tap.until('OK\r\n')).toString('latin1');
      expect(r).toBe(`${echoed ? 'abcd' : ''}+QFUPL: 4,206\r\n\r\nOK\r\n`);
    }
  });
});
