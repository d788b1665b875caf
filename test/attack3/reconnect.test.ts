/**
 * The connection machine under unplug/replug: calls made at each moment of a reconnect, whenReady and close()
 * racing it, and what is left running afterwards.
 */
import { afterEach, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { isQuectelError, Modem, QuectelError } from '../../src/index.js';
import { SerialPortTransport } from '../../src/transport/SerialPortTransport.js';
import { cleanups, rig, runCleanups, settle, sleep, tcpServer, within } from '../attack/harness.js';

afterEach(runCleanups);

const codeOf = (r: { ok: boolean; error?: unknown } | 'HUNG') =>
  r === 'HUNG' ? 'HUNG' : r.ok ? 'resolved' : isQuectelError(r.error) ? r.error.code : String(r.error);

test('whenReady() waiting through a reconnect rejects with MODEM_CLOSED when the modem is closed, not MODEM_NO_ANSWER', async () => {
  const { modem, module } = await rig({}, { reconnect: { initialDelayMs: 2000 } });
  module.faults.unplug();
  for (let i = 0; i < 100 && modem.state !== 'reconnecting'; i++) await sleep(10);
  const waiting = settle(modem.whenReady(10_000));
  await sleep(50);
  await modem.close();
  const r = await within(waiting, 3000);
  // Documented: "@throws ... MODEM_CLOSED after close()". Observed: MODEM_NO_ANSWER "the module was not ready
  // within 10000 ms (closed)" at once: xstate's waitFor rejects "Actor terminated without satisfying predicate"
  // on stop, and whenReady maps every waitFor rejection to a timeout before it checks `closed`.
  expect(codeOf(r)).toBe('MODEM_CLOSED');
});

test('a call made while the lost port is being reopened fails at once with MODEM_NO_PORT, as it does a moment earlier', async () => {
  const module = new VirtualModule({ model: 'EC25' });
  let gone = false;
  // The port is a serial server that went off the network: each reopen takes 2 s to time out.
  const factory = async () => {
    if (gone) {
      await sleep(2000);
      throw new QuectelError('TRANSPORT_OPEN_FAILED', 'no TCP connection to rack1:7001 within 2000 ms');
    }
    return SerialPortTransport.open({ path: module.portPath, binding: module.createBinding() });
  };
  const modem = await Modem.open(factory, { reconnect: { initialDelayMs: 50, maxAttempts: 3 } });
  cleanups.push(() => module.dispose(), () => modem.close());
  gone = true;
  module.faults.unplug();
  for (let i = 0; i < 200 && modem.state !== 'reconnecting'; i++) await sleep(5);
  const early = await within(settle(modem.send('AT')), 1000);
  expect(codeOf(early)).toBe('MODEM_NO_PORT'); // in 'reconnecting': at once, as documented
  for (let i = 0; i < 200 && modem.state !== 'opening'; i++) await sleep(5);
  expect(modem.state).toBe('opening');
  const t0 = Date.now();
  const late = await within(settle(modem.send('AT')), 1000);
  // Observed: in 'opening' the call is not refused but waits (whenReady, up to 120 s by default) through every
  // further attempt, and finally rejects after ~6 s with the transport's TRANSPORT_OPEN_FAILED.
  expect({ code: codeOf(late), fast: Date.now() - t0 < 1000 }).toEqual({ code: 'MODEM_NO_PORT', fast: true });
}, 20_000);

for (const step of ['connected.syncing', 'connected.identifying', 'connected.urcPort', 'connected.sim', 'connected.registration',
  'connected.pdp', 'connected.reclaiming', 'connected.restoring']) {
  test(`unplugged again at ${step} of the bring-up after a replug: the modem comes back and a socket works`, async () => {
    const echo = await tcpServer((x) => x.pipe(x));
    const { modem, module } = await rig({ latency: { commandMs: 5 } }, { reconnect: { initialDelayMs: 50 } });
    let armed = true;
    modem.on('state', (s) => {
      if (armed && s === step) {
        armed = false;
        module.faults.unplug();
        setTimeout(() => module.faults.replug(), 100);
      }
    });
    module.faults.unplug();
    setTimeout(() => module.faults.replug(), 100);
    await sleep(300);
    await modem.whenReady(10_000);
    expect(armed).toBe(false);
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', echo.port]);
    await s.send('x\n');
    expect((await s.readline()).toString()).toBe('x\n');
    await s.close();
  }, 20_000);
}

test('close() while a slow reopen is in flight: the port it opens afterwards is closed again', async () => {
  const module = new VirtualModule({ model: 'EC25' });
  let slow = false;
  const opened: SerialPortTransport[] = [];
  const factory = async () => {
    if (slow) await sleep(800);
    const t = await SerialPortTransport.open({ path: module.portPath, binding: module.createBinding() });
    opened.push(t);
    return t;
  };
  const modem = await Modem.open(factory, { reconnect: { initialDelayMs: 50, maxAttempts: 3 } });
  cleanups.push(() => module.dispose());
  slow = true;
  module.faults.unplug();
  setTimeout(() => module.faults.replug(), 100);
  for (let i = 0; i < 200 && modem.state !== 'opening'; i++) await sleep(10);
  await modem.close();
  await sleep(1200);
  expect(opened.length).toBe(2);
  expect(opened.map((t) => t.isOpen)).toEqual([false, false]);
});

for (const at of ['reconnecting', 'connected.syncing', 'connected.sim', 'connected.pdp', 'connected.restoring']) {
  test(`close() at ${at} of a reconnect leaves no timer behind`, async () => {
    const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const before = timers();
    const { modem, module } = await rig({ latency: { commandMs: 20 } }, { reconnect: { initialDelayMs: 50 } });
    const reached = new Promise<void>((res) => modem.on('state', (s) => s === at && res()));
    module.faults.unplug();
    setTimeout(() => module.faults.replug(), 100);
    await reached;
    await modem.close();
    module.dispose();
    await sleep(300);
    expect(timers()).toBeLessThanOrEqual(before);
  });
}
