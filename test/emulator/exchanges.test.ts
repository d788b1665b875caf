/**
 * The reference's byte-exact exchanges (quectel-at.md §1, §2.4, §6, §7, §10), checked on the raw bytes the virtual
 * module sends. Transcript ids (T08, T16…) name the real captures each expectation comes from.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { ModuleTap } from '../helpers/ModuleTap.js';
import { BG96MAR02A07M1G, EG25GGBR07A08M2G_01_003 } from '../../src/emulator/firmware/sslTestResponses.js';

const modules: VirtualModule[] = [];
afterEach(() => {
  for (const m of modules.splice(0)) m.dispose();
});

async function boot(options: VirtualModuleOptions = {}): Promise<ModuleTap> {
  const m = new VirtualModule(options);
  modules.push(m);
  const tap = new ModuleTap(m);
  await tap.booted();
  return tap;
}

async function echoOff(options: VirtualModuleOptions = {}): Promise<ModuleTap> {
  const tap = await boot(options);
  expect(await tap.command('ATE0')).toBe('ATE0\r\r\nOK\r\n');
  return tap;
}

describe('framing and echo (§1.1)', () => {
  test('echo is on after boot, ATE0 is itself echoed, then no echo (S16)', async () => {
    const tap = await boot();
    expect(await tap.command('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await tap.command('ATE0')).toBe('ATE0\r\r\nOK\r\n');
    expect(await tap.command('AT')).toBe('\r\nOK\r\n');
    expect(await tap.command('ATE1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT')).toBe('AT\r\r\nOK\r\n');
  });

  test('chained basic commands AT&FZE0 are echoed and answered once (T04)', async () => {
    const tap = await boot();
    expect(await tap.command('AT&FZE0')).toBe('AT&FZE0\r\r\nOK\r\n');
    expect(await tap.command('AT')).toBe('\r\nOK\r\n');
  });

  test('a command split across writes is assembled (T06)', async () => {
    const tap = await echoOff();
    tap.write('AT+CFUN=');
    tap.write('1');
    tap.write('\r');
    expect((await tap.until('OK\r\n')).toString('latin1')).toBe('\r\nOK\r\n');
  });

  test('information response with a blank line before OK (22 bytes, S16)', async () => {
    const tap = await echoOff();
    const r = await tap.command('AT+CPIN?');
    expect(r).toBe('\r\n+CPIN: READY\r\n\r\nOK\r\n');
    expect(r.length).toBe(22);
  });

  test('unknown and malformed commands answer ERROR', async () => {
    const tap = await echoOff();
    expect(await tap.command('AT+NOSUCH')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLOPEN=1,1')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QIGETERROR')).toBe('\r\n+QIGETERROR: 552,invalid parameters\r\n\r\nOK\r\n');
  });

  test('CME errors follow AT+CMEE: number, bare ERROR, text', async () => {
    const tap = await echoOff();
    expect(await tap.command('AT+QFDEL="missing.pem"')).toBe('\r\n+CME ERROR: 405\r\n');
    await tap.command('AT+CMEE=0');
    expect(await tap.command('AT+QFDEL="missing.pem"')).toBe('\r\nERROR\r\n');
    await tap.command('AT+CMEE=2');
    expect(await tap.command('AT+QFDEL="missing.pem"')).toBe('\r\n+CME ERROR: file not found\r\n');
  });
});

describe('glued boot URCs (T08)', () => {
  test('RDY glued to the first command, APP RDY between a command and its +CPIN line', async () => {
    const m = new VirtualModule({ model: 'BG96', boot: { urcGapMs: 300 } });
    modules.push(m);
    const tap = new ModuleTap(m);
    await tap.until(() => tap.pending.includes('\r\nRDY\r\n'), 2000);
    // The host's AT lands right after RDY; both come back together as `\r\nRDY\r\nAT\r\r\nOK\r\n` (16 bytes).
    const saw = Buffer.from('\r\nRDY\r\n');
    tap.write('AT\r');
    const first = await tap.until('OK\r\n');
    expect(Buffer.concat([saw, first]).toString('latin1')).toBe('\r\nRDY\r\nAT\r\r\nOK\r\n');
    await tap.command('ATE0');
    m.faults.urcAfterEcho('APP RDY', 'AT+CPIN');
    const r = await tap.command('AT+CPIN?');
    expect(r).toBe('\r\nAPP RDY\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n');
    expect(r.length).toBe(33);
  });

  test('a held URC comes after the final result, never inside a response', async () => {
    const tap = await echoOff({ latency: { commandMs: 50 } });
    tap.write('AT+CPIN?\r');
    await new Promise((r) => setTimeout(r, 10));
    tap.module.urc('+QIURC: "pdpdeact",1');
    const r = await tap.until('pdpdeact",1\r\n');
    expect(r.toString('latin1')).toBe('\r\n+CPIN: READY\r\n\r\nOK\r\n\r\n+QIURC: "pdpdeact",1\r\n');
  });
});

describe('identification (§8) and model differences (§9)', () => {
  const cases = [
    ['BG96', 'Quectel\r\nBG96\r\nRevision: BG96MAR02A07M1G', 'BG96', 'BG96MAR02A07M1G'],
    ['BG95', 'Quectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A03', 'BG95-M3', 'BG95M3LAR02A03'],
    ['EC25', 'Quectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G', 'EC25', 'EC25EFAR06A17M4G'],
    ['EG25-G', 'Quectel\r\nEG25\r\nRevision: EG25GGBR07A08M2G', 'EG25', 'EG25GGBR07A08M2G'],
    ['EC200U', 'Quectel\r\nEC200U\r\nRevision: EC200UCNAAR03A15M08', 'EC200U', 'EC200UCNAAR03A15M08'],
    ['EG800K', 'Quectel\r\nEG800K\r\nRevision: EG800KCNGCR07A06M04', 'EG800K', 'EG800KCNGCR07A06M04'],
    ['BC25', 'Quectel_Ltd\r\nQuectel_BC25\r\nRevision: BC25PAR01A06', 'Quectel_BC25', 'BC25PAR01A06'],
  ] as const;
  test.each(cases)('%s identifies itself', async (model, ati, cgmm, gmr) => {
    const tap = await echoOff({ model });
    expect(await tap.command('ATI')).toBe(`\r\n${ati}\r\n\r\nOK\r\n`);
    expect(await tap.command('AT+CGMM')).toBe(`\r\n${cgmm}\r\n\r\nOK\r\n`);
    expect(await tap.command('AT+GMR')).toBe(`\r\n${gmr}\r\n\r\nOK\r\n`);
    expect(await tap.command('AT+QGMR')).toMatch(new RegExp(`^\\r\\n${gmr}_[0-9.]+\\r\\n\\r\\nOK\\r\\n$`));
    expect(await tap.command('AT+GSN')).toMatch(/^\r\n\d{15}\r\n\r\nOK\r\n$/);
  });

  test('BG95 boots with APP RDY last; EC25 with PB DONE (S12, S22)', async () => {
    const bg95 = new ModuleTap(new VirtualModule({ model: 'BG95' }));
    modules.push(bg95.module);
    expect(await bg95.booted()).toBe('\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\nAPP RDY\r\n');
    const ec25 = new ModuleTap(new VirtualModule({ model: 'EC25' }));
    modules.push(ec25.module);
    expect(await ec25.booted()).toMatch(/\+QIND: PB DONE\r\n$/);
  });

  test('BC25 has no SSL command set: every QSSL command is ERROR, never a hang', async () => {
    const tap = await echoOff({ model: 'BC25' });
    expect(await tap.command('AT+QSSLCFG=?')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLOPEN=1,1,0,"example.com",443,0')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QFUPL="a.pem",10')).toBe('\r\nERROR\r\n');
  });

  test('BG96 (BG96MAR02A07M1G) lists what T18 lists and rejects a quoted ciphersuite (T01/S13)', async () => {
    const tap = await echoOff({ model: 'BG96' });
    expect(await tap.command('AT+QSSLCFG=?')).toBe(`\r\n${BG96MAR02A07M1G.join('\r\n')}\r\n\r\nOK\r\n`);
    expect(await tap.command('AT+QSSLCFG="sni",1,1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="dtls",1,1')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2,0XC030')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2,"0XFFFF"')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2,0XFFFF')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2,0xc02f')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2')).toBe('\r\n+QSSLCFG: "ciphersuite",2,0XC02F\r\n\r\nOK\r\n');
  });

  test('later BG96-style firmware (BG95) lists sni/checkhost/ignorecertchain after seclevel (T18)', async () => {
    const tap = await echoOff({ model: 'BG95' });
    const r = await tap.command('AT+QSSLCFG=?');
    const lines = r.trim().split('\r\n').filter((l) => l.startsWith('+QSSLCFG')).map((l) => /"(\w+)"/.exec(l)![1]);
    expect(lines).toEqual(['sslversion', 'ciphersuite', 'cacert', 'clientcert', 'clientkey', 'seclevel', 'sni',
      'checkhost', 'ignorecertchain', 'ignorelocaltime', 'negotiatetime']);
    expect(await tap.command('AT+QSSLCFG="ciphersuite",2,"0XFFFF"')).toBe('\r\nOK\r\n');
  });

  test('EG25-G: the richer QSSLCFG list, UFS: prefix in listings (T16, T19)', async () => {
    const tap = await echoOff({ model: 'EG25-G' });
    // T19, byte for byte: its own order, dtlsversion (0,1), 32 suites with the stray space, no ignorecertitem.
    const r = await tap.command('AT+QSSLCFG=?');
    expect(r).toBe(`\r\n${EG25GGBR07A08M2G_01_003.join('\r\n')}\r\n\r\nOK\r\n`);
    expect(r).toContain('"ciphersuite",(0-5),(0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XC002,0XC003,0XC004,0XC005, 0XC007,');
    expect(r).not.toContain('ignorecertitem');
    expect(await tap.command('AT+QSSLCFG="dtlsversion",1,2')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QSSLCFG="dtlsversion",1,1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",1,0XC007')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="ciphersuite",1,0XCCA8')).toBe('\r\nERROR\r\n');
    expect(await tap.command('AT+QGMR')).toBe('\r\nEG25GGBR07A08M2G_01.003.01.003\r\n\r\nOK\r\n');
    tap.write('AT+QFUPL="isrgx1.pem",3\r');
    await tap.until('CONNECT\r\n');
    tap.write('abc');
    await tap.until('OK\r\n');
    expect(await tap.command('AT+QFLST')).toBe('\r\n+QFLST: "UFS:isrgx1.pem",3\r\n\r\nOK\r\n');
  });

  test('EG800K: sni exists and defaults to 0 (T15); ignorelocaltime reads back 1; query is not a set (T01)', async () => {
    const tap = await echoOff({ model: 'EG800K' });
    expect(await tap.command('AT+QSSLCFG="sni",4')).toBe('\r\n+QSSLCFG: "sni",4,0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="ignorelocaltime",1')).toBe('\r\n+QSSLCFG: "ignorelocaltime",1,1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="seclevel",1,2')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="seclevel",1')).toBe('\r\n+QSSLCFG: "seclevel",1,2\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="cacert",1,"UFS:ca.pem"')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QSSLCFG="cacert",1')).toBe('\r\n+QSSLCFG: "cacert",1,"UFS:ca.pem"\r\n\r\nOK\r\n');
  });

  test('PDP context ranges differ: EC200U 1–7, EG800K 1–8, BG96 1–16 (§9)', async () => {
    expect(await (await echoOff({ model: 'EC200U' })).command('AT+QIACT=8')).toBe('\r\nERROR\r\n');
    expect(await (await echoOff({ model: 'EG800K' })).command('AT+QIACT=8')).toBe('\r\nOK\r\n');
    expect(await (await echoOff({ model: 'BG96' })).command('AT+QIACT=16')).toBe('\r\nOK\r\n');
  });
});

describe('files (§6)', () => {
  test('QFUPL: CONNECT, exact bytes, size and checksum; 407 when the file exists', async () => {
    const tap = await echoOff();
    expect((await (tap.write('AT+QFUPL="test1.txt",10\r'), tap.until('CONNECT\r\n'))).toString('latin1')).toBe('\r\nCONNECT\r\n');
    tap.write('1234567890');
    expect((await tap.until('OK\r\n')).toString('latin1')).toBe('+QFUPL: 10,3938\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QFUPL="test1.txt",10')).toBe('\r\n+CME ERROR: 407\r\n');
    // T01: a BG96 lists its security/ directory before the files.
    expect(await tap.command('AT+QFLST')).toBe('\r\n+QFLST: "security/",2\r\n+QFLST: "test1.txt",10\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QFLDS="UFS"')).toMatch(/^\r\n\+QFLDS: \d+,14483456\r\n\r\nOK\r\n$/);
    expect(await tap.command('AT+QFLDS')).toBe('\r\n+QFLDS: 10,1\r\n\r\nOK\r\n');
  });

  test('QFUPL gap timeout keeps the partial file, prints its size and checksum, then 421 (T16)', async () => {
    const tap = await echoOff();
    tap.write('AT+QFUPL="part.bin",3000,1\r');
    await tap.until('CONNECT\r\n');
    tap.write('ABC');
    const r = await tap.until('421\r\n', 3000);
    expect(r.toString('latin1')).toBe('+QFUPL: 3,242\r\n\r\n+CME ERROR: 421\r\n');
    expect(await tap.command('AT+QFLST="part.bin"')).toBe('\r\n+QFLST: "part.bin",3\r\n\r\nOK\r\n');
  });

  test('AT commands sent during an upload become file content (T22)', async () => {
    const tap = await echoOff();
    tap.write('AT+QFUPL="x.txt",8\r');
    await tap.until('CONNECT\r\n');
    tap.write('AT\rAT\r\r\n');
    expect((await tap.until('OK\r\n')).toString('latin1')).toMatch(/^\+QFUPL: 8,[0-9a-f]+\r\n\r\nOK\r\n$/);
    tap.write('AT+QFDWL="x.txt"\r');
    const r = await tap.until(/OK\r\n$/);
    expect(r.toString('latin1')).toMatch(/^\r\nCONNECT\r\nAT\rAT\r\r\n\r\n\+QFDWL: 8,[0-9a-f]+\r\n\r\nOK\r\n$/);
  });

  test('ACK mode sends an A after each 1024 bytes', async () => {
    const tap = await echoOff();
    tap.write('AT+QFUPL="big.bin",2500,5,1\r');
    await tap.until('CONNECT\r\n');
    tap.write(Buffer.alloc(1024, 0x31));
    expect((await tap.until('A')).toString('latin1')).toBe('A');
    tap.write(Buffer.alloc(1024, 0x31));
    expect((await tap.until('A')).toString('latin1')).toBe('A');
    tap.write(Buffer.alloc(452, 0x31));
    expect((await tap.until('OK\r\n')).toString('latin1')).toMatch(/^\+QFUPL: 2500,[0-9a-f]+\r\n\r\nOK\r\n$/);
  });

  test('QFDEL, and names with a UFS: prefix are the same file', async () => {
    const tap = await echoOff({ files: { 'a.pem': 'x' } });
    expect(await tap.command('AT+QFLST="UFS:a.pem"')).toBe('\r\n+QFLST: "a.pem",1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QFDEL="UFS:a.pem"')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QFDEL="a.pem"')).toBe('\r\n+CME ERROR: 405\r\n');
    expect(await tap.command('AT+QFLST')).toBe('\r\n+QFLST: "security/",2\r\n\r\nOK\r\n');
  });
});

describe('network bring-up (§7)', () => {
  test('PDP: bare OK when nothing is active, then the context line; DNS URCs after OK', async () => {
    const tap = await echoOff({ hosts: { 'myssl.test': '127.0.0.1', 'port.test': '127.0.0.1:8443' } });
    expect(await tap.command('AT+CEREG?')).toBe('\r\n+CEREG: 0,1\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QICSGP=1')).toBe('\r\n+QICSGP: 1,"","","",0\r\n\r\nOK\r\n');
    expect(await tap.command('AT+QICSGP=1,1,"internet","","",1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QIACT?')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QIACT=1')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+QIACT?')).toBe('\r\n+QIACT: 1,1,1,"10.7.157.1"\r\n\r\nOK\r\n');
    tap.write('AT+QIDNSGIP=1,"myssl.test"\r');
    expect((await tap.until('"127.0.0.1"\r\n')).toString('latin1'))
      .toBe('\r\nOK\r\n\r\n+QIURC: "dnsgip",0,1,600\r\n\r\n+QIURC: "dnsgip","127.0.0.1"\r\n');
    // A hosts entry with a port answers an address of its own (198.18.0.0/15), which connections then map to it.
    tap.write('AT+QIDNSGIP=1,"port.test"\r');
    expect((await tap.until('"198.18.0.1"\r\n')).toString('latin1'))
      .toBe('\r\nOK\r\n\r\n+QIURC: "dnsgip",0,1,600\r\n\r\n+QIURC: "dnsgip","198.18.0.1"\r\n');
    expect(await tap.module.resolve('198.18.0.1', 443)).toEqual({ ip: '127.0.0.1', port: 8443 });
  });

  test('registration searches until the configured delay has passed', async () => {
    const tap = await echoOff({ registration: { stat: 5, afterMs: 300 } });
    expect(await tap.command('AT+CREG?')).toBe('\r\n+CREG: 0,2\r\n\r\nOK\r\n');
    await new Promise((r) => setTimeout(r, 320));
    expect(await tap.command('AT+CREG?')).toBe('\r\n+CREG: 0,5\r\n\r\nOK\r\n');
  });

  test('SIM absent is CME 10; the clock is set and read in the module format', async () => {
    const tap = await echoOff({ sim: 'absent' });
    expect(await tap.command('AT+CPIN?')).toBe('\r\n+CME ERROR: 10\r\n');
    expect(await tap.command('AT+CCLK="30/01/02,03:04:05+08"')).toBe('\r\nOK\r\n');
    expect(await tap.command('AT+CCLK?')).toMatch(/^\r\n\+CCLK: "30\/01\/02,03:04:0[5-6]\+08"\r\n\r\nOK\r\n$/);
    expect(tap.module.now().toISOString()).toMatch(/^2030-01-02T01:04:0/);
  });
});

describe('power (§10 item 14)', () => {
  test('AT+CFUN=1,1: OK, POWERED DOWN, silence, then the banner with echo back on', async () => {
    const tap = await echoOff({ boot: { rebootSilenceMs: 150 } });
    await tap.command('AT+QIACT=1');
    tap.write('AT+CFUN=1,1\r');
    const down = await tap.until('"pdpdeact",1\r\n');
    expect(down.toString('latin1')).toBe('\r\nOK\r\n\r\nPOWERED DOWN\r\n\r\n+QIURC: "pdpdeact",1\r\n');
    tap.write('AT\r'); // ignored: the module is off
    const banner = await tap.booted();
    expect(banner.startsWith('\r\nRDY\r\n')).toBe(true);
    expect(await tap.command('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await tap.command('AT+QIACT?')).toBe('AT+QIACT?\r\r\nOK\r\n');
  });

  test('AT+QPOWD: OK, POWERED DOWN, then nothing until the power key', async () => {
    const tap = await echoOff();
    tap.write('AT+QPOWD\r');
    expect((await tap.until('POWERED DOWN\r\n')).toString('latin1')).toBe('\r\nOK\r\n\r\nPOWERED DOWN\r\n');
    tap.write('AT\r');
    await new Promise((r) => setTimeout(r, 100));
    expect(tap.pending.length).toBe(0);
    tap.module.pressPowerKey();
    expect(await tap.booted()).toMatch(/^\r\nRDY\r\n/);
  });
});
