/**
 * The connection machine driving a virtual module: bring-up, each clear failure, and recovery from a restart and
 * from a vanished port. Timeouts are shortened through the options.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { isQuectelError, type QuectelErrorCode } from '../../src/errors.js';
import { Modem } from '../../src/modem/Modem.js';
import type { ModemOptions } from '../../src/modem/ModemOptions.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function virtual(options: VirtualModuleOptions = {}): VirtualModule {
  const m = new VirtualModule(options);
  cleanups.push(() => m.dispose());
  return m;
}

const FAST: ModemOptions = {
  syncTimeoutMs: 2000, simTimeoutMs: 300, registrationTimeoutMs: 400, registrationPollMs: 50,
  reconnect: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 20 },
};

async function open(m: VirtualModule, options: ModemOptions = {}): Promise<Modem> {
  const modem = await Modem.open(m, { ...FAST, ...options });
  cleanups.push(() => modem.close());
  return modem;
}

const code = (c: QuectelErrorCode) => (e: unknown) => isQuectelError(e, c);

describe('bring-up', () => {
  test('opens, syncs, identifies, registers, activates PDP; states are observable', async () => {
    const m = virtual({ model: 'EC25' });
    const states: string[] = [];
    const modem = await Modem.open(m, { ...FAST, apn: { apn: 'internet' } });
    cleanups.push(() => modem.close());
    modem.on('state', (s) => states.push(s));
    expect(modem.state).toBe('connected.ready');
    expect(modem.info).toMatchObject({ model: 'EC25', revision: 'EC25EFAR06A17M4G', ssl: true });
    expect(modem.info.sslParams).toContain('sni');
    expect(modem.ip).toBe('10.7.157.1');
    expect(modem.urcPort).toBe('usbat');
    expect((await modem.send('AT+QICSGP=1', { expect: ['+QICSGP:'] })).lines[0]).toBe('+QICSGP: 1,"internet","","",0');
  });

  test('BC25 (NB-IoT) comes up through attach and is identified as having no SSL', async () => {
    const m = virtual({ model: 'BC25' });
    const commands: string[] = [];
    m.on('command', (l) => commands.push(l));
    const modem = await open(m, { apn: { apn: 'nbiot.example' } });
    expect(modem.state).toBe('connected.ready');
    expect(modem.info).toMatchObject({ family: 'nb-iot', model: 'BC25', ssl: false });
    expect(modem.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The LTE PDP commands are not in its dialect: none was sent.
    expect(commands.filter((c) => /^AT\+(QICSGP|QIACT|QSSL|QI)/i.test(c))).toEqual([]);
    expect(commands).toContain('AT+CGDCONT=1,"IP","nbiot.example"');
  });

  test('an SSL context in use is re-applied after a restart (restore hook)', async () => {
    const m = virtual({ model: 'EC25', boot: { rebootSilenceMs: 50 } });
    const modem = await open(m);
    modem.onRestore(async (at) => {
      await at.send('AT+QSSLCFG="sni",1,1');
    });
    await modem.send('AT+QSSLCFG="sni",1,1');
    let lost = 0;
    modem.on('socketsLost', () => lost++);
    const restarted = new Promise<void>((r) => modem.on('socketsLost', () => r()));
    await modem.send('AT+CFUN=1,1');
    await restarted;
    await modem.whenReady(5000);
    expect(lost).toBeGreaterThan(0);
    expect((await modem.send('AT+QSSLCFG="sni",1', { expect: ['+QSSLCFG:'] })).lines[0]).toBe('+QSSLCFG: "sni",1,1');
  });
});

describe('URC routing (§1.3)', () => {
  async function misrouted(): Promise<VirtualModule> {
    const m = virtual({ model: 'EG800K', atPort: 'usbat' });
    const { RawAtSession, linkOf } = await import('../../src/emulator/index.js');
    const raw = new RawAtSession(linkOf(m));
    await raw.waitUrc(/^RDY$/);
    expect((await raw.send('AT+QURCCFG="urcport","usbmodem"')).final).toBe('OK');
    m.removeAllListeners('output');
    return m;
  }

  test('URCs sent to another port are reported', async () => {
    const modem = await open(await misrouted());
    expect(modem.urcPort).toBe('usbmodem');
  });

  test('with urcPort in the options they are set right, and URCs arrive', async () => {
    const modem = await open(await misrouted(), { urcPort: 'usbat' });
    expect(modem.urcPort).toBe('usbat');
    const dns = new Promise<string>((r) => modem.at.onUrc('+QIURC: "dnsgip"', (l) => r(l)));
    await modem.send('AT+QIDNSGIP=1,"localhost"');
    expect(await dns).toMatch(/^\+QIURC: "dnsgip",0,/);
  });
});

describe('clear failures, never a hang', () => {
  test('no such port', async () => {
    await expect(Modem.open('/dev/ttyNOPE-ussl', FAST)).rejects.toSatisfy(code('TRANSPORT_NOT_FOUND'));
  });
  test('no answer', async () => {
    const m = virtual();
    m.faults.dropResponse(/^AT/);
    for (let i = 0; i < 50; i++) m.faults.dropResponse();
    await expect(Modem.open(m, { ...FAST, syncTimeoutMs: 300 })).rejects.toSatisfy(code('MODEM_NO_ANSWER'));
  });
  test('SIM missing', async () => {
    await expect(Modem.open(virtual({ sim: 'absent' }), FAST)).rejects.toSatisfy(code('MODEM_SIM_MISSING'));
  });
  test('SIM PIN', async () => {
    await expect(Modem.open(virtual({ sim: 'PIN' }), FAST)).rejects.toSatisfy(code('MODEM_SIM_PIN'));
  });
  test('not registered within the deadline', async () => {
    await expect(Modem.open(virtual({ registration: { afterMs: 60_000 } }), FAST)).rejects.toSatisfy(code('MODEM_NOT_REGISTERED'));
  });
  test('registration denied', async () => {
    await expect(Modem.open(virtual({ registration: { stat: 3 } }), FAST)).rejects.toSatisfy(code('MODEM_REGISTRATION_DENIED'));
  });
  test('PDP activation failed', async () => {
    const m = virtual();
    m.faults.urcAfterEcho('+QIURC: "pdpdeact",1', 'AT+QIACT=');
    m.faults.dropResponse('AT+QIACT=1');
    await expect(Modem.open(m, { ...FAST, at: { timeouts: { '+QIACT': 200 } } })).rejects.toSatisfy(code('MODEM_PDP_FAILED'));
  });
  test('a PDP context or URC port that cannot go into a command is refused before anything is sent', async () => {
    const m = virtual();
    const seen: string[] = [];
    m.on('command', (l) => seen.push(l));
    const bad = { pdpContext: '1;+QPOWD' } as unknown as ModemOptions;
    await expect(Modem.open(m, { ...FAST, ...bad })).rejects.toSatisfy(code('INVALID_ARGUMENT'));
    await expect(Modem.open(m, { ...FAST, urcPort: 'usbat"' as unknown as 'usbat' })).rejects.toSatisfy(code('INVALID_ARGUMENT'));
    expect(seen).toEqual([]);
  });

  test('an APN with a quote never reaches the module', async () => {
    const m = virtual();
    const seen: string[] = [];
    m.on('command', (l) => seen.push(l));
    await expect(Modem.open(m, { ...FAST, apn: { apn: 'x","y' } })).rejects.toSatisfy(code('INVALID_ARGUMENT'));
    expect(seen).toEqual([]);
  });
});

describe('recovery', () => {
  test('unplug and replug: the machine reconnects to the same path and is ready again', async () => {
    const m = virtual({ model: 'BG96' });
    const modem = await open(m);
    const reconnecting = new Promise<void>((r) => modem.on('state', (s) => s === 'reconnecting' && r()));
    m.faults.unplug();
    await reconnecting;
    m.faults.replug();
    await modem.whenReady(5000);
    expect((await modem.send('AT+CGMM')).lines).toEqual(['BG96']);
  });

  test('a module that restarts in every bring-up after having been ready ends in MODEM_RESETTING', async () => {
    const m = virtual({ model: 'BG96', boot: { rebootSilenceMs: 20 } });
    const modem = await open(m, { maxResets: 3 });
    const failed = new Promise<void>((resolve) => modem.on('state', (s) => s === 'failed' && resolve()));
    for (let i = 0; i < 20; i++) m.faults.resetDuringCommand('AT+CEREG?');
    m.faults.reset();
    await failed;
    await expect(modem.whenReady(100)).rejects.toSatisfy(code('MODEM_RESETTING'));
  });

  test('close() while reconnecting leaves no port open behind', async () => {
    const m = virtual({ model: 'BG96' });
    const modem = await Modem.open(m, { ...FAST, reconnect: { initialDelayMs: 30, maxDelayMs: 30, maxAttempts: 50 } });
    const reconnecting = new Promise<void>((resolve) => modem.on('state', (s) => s === 'reconnecting' && resolve()));
    m.faults.unplug();
    await reconnecting;
    m.faults.replug();
    await modem.close();
    await new Promise((r) => setTimeout(r, 150));
    expect(m.listenerCount('output')).toBe(0);
  });

  test('leftover SSL and TCP ids from an earlier host process are closed at start', async () => {
    const { createServer } = await import('node:net');
    const server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const m = virtual({ model: 'BG96' });
    const first = await open(m);
    await first.send(`AT+QIOPEN=1,4,"TCP","127.0.0.1",${port},0,0`, { lateResult: { prefix: '+QIOPEN: 4,', timeoutMs: 2000 } });
    await first.close(); // the host process "dies" with id 4 open
    const second = await open(m);
    expect((await second.send('AT+QISTATE', { expect: ['+QISTATE:'] })).lines).toEqual([]);
  });
});

describe('the network drops the PDP context (+QIURC: "pdpdeact")', () => {
  async function echoServer(): Promise<number> {
    const { createServer } = await import('node:net');
    const server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return (server.address() as { port: number }).port;
  }

  test('the modem leaves ready, reports sockets lost, reactivates and comes back; the next QIOPEN works', async () => {
    const port = await echoServer();
    const m = virtual({ model: 'EC25' });
    const modem = await open(m, { pdpRecovery: { initialDelayMs: 10 } });
    const states: string[] = [];
    modem.on('state', (s) => states.push(s));
    let lost = 0;
    modem.on('socketsLost', () => lost++);
    const back = new Promise<void>((r) => modem.on('state', (s) => s === 'connected.ready' && r()));
    m.faults.pdpDeactivate(1);
    await back;
    expect(states).toEqual(['connected.pdpLost', 'connected.reactivating', 'connected.reclaiming', 'connected.restoring', 'connected.ready']);
    expect(lost).toBe(1);
    expect(modem.ip).toBe('10.7.157.1');
    const opened = await modem.send(`AT+QIOPEN=1,0,"TCP","127.0.0.1",${port},0,0`);
    expect(opened.late).toBe('+QIOPEN: 0,0');
  });

  test('a context that will not come back ends in MODEM_PDP_FAILED after the attempts, not a hang', async () => {
    const m = virtual({ model: 'EC25' });
    const modem = await open(m, { pdpRecovery: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 }, at: { timeouts: { '+QIACT': 200 }, fenceTimeoutMs: 200 } });
    for (let i = 0; i < 10; i++) m.faults.dropResponse('AT+QIACT=1');
    const failed = new Promise<void>((r) => modem.on('state', (s) => s === 'failed' && r()));
    m.faults.pdpDeactivate(1);
    await failed;
    await expect(modem.whenReady(100)).rejects.toSatisfy(code('MODEM_PDP_FAILED'));
  }, 20_000);

  test('another context going down is not ours: the modem stays ready', async () => {
    const m = virtual({ model: 'EC25' });
    const modem = await open(m);
    const states: string[] = [];
    modem.on('state', (s) => states.push(s));
    m.faults.pdpDeactivate(2);
    expect((await modem.send('AT+CGMM')).lines).toEqual(['EC25']);
    expect(states).toEqual([]);
    expect(modem.state).toBe('connected.ready');
  });
});

test.each(['BG96', 'BG95', 'EC25', 'EG25-G', 'EC200U', 'EG800K', 'BC25'] as const)('Modem.open reaches ready on a virtual %s', async (model) => {
  const modem = await open(virtual({ model }), { apn: { apn: 'internet' } });
  expect(modem.state).toBe('connected.ready');
  expect(modem.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(modem.info.family).toBe(model === 'BC25' ? 'nb-iot' : 'lte');
});
