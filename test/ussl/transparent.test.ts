/**
 * Transparent mode (`receive: 'transparent'`, access mode 2) and direct push (`receive: 'push'`) through the public
 * API against the virtual module and a real TLS peer: 1 MiB each way equal by SHA-256; the port held alone (other
 * commands fail at once, other sockets refused); the URC port checked and moved for the stream's lifetime; `+++`
 * in the payload never escaping; the peer's close as NO CARRIER and EOF; close leaving data mode with its guard
 * times before AT+QSSLCLOSE; and a modem closed in data mode leaving the module in command mode.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { connectTls, errno, isOSError, isQuectelError, Modem, type ModemOptions } from '../../src/index.js';
import { useTlsEchoServer } from '../helpers/tlsPeers.js';

const GUARD = 100;
const MiB = 1024 * 1024;
const peer = useTlsEchoServer();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Traced { readonly at: number; readonly dir: 'in' | 'out'; readonly kind: string; readonly text: string }

/** A virtual EC25 with a short guard time, and a modem on it that moves URCs to usbmodem in data mode. */
async function open(moduleOptions: VirtualModuleOptions = {}, modemOptions: ModemOptions = { dataModeUrcPort: 'usbmodem' }) {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'echo.test': `127.0.0.1:${peer.server.port}` }, guardTimeMs: GUARD, ...moduleOptions });
  const trace: Traced[] = [];
  const modem = await Modem.open(module, {
    ...modemOptions,
    at: { guardTimeMs: GUARD, trace: (e: AtTraceEvent) => trace.push({ at: e.at, dir: e.dir, kind: e.kind, text: e.text ?? '' }) },
  });
  cleanups.push(() => module.dispose(), () => modem.close());
  trace.length = 0;
  const commands = () => trace.filter((e) => e.dir === 'out' && e.kind === 'command').map((e) => e.text);
  return { module, modem, trace, commands };
}

async function wrapped(modem: Modem, receive: 'buffer' | 'push' | 'transparent' = 'transparent') {
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive });
  await s.connect(['echo.test', 443]);
  return s;
}

test.each(['transparent', 'push'] as const)('%s: 1 MiB each way at once through a TLS echo peer is identical by SHA-256', async (receive) => {
  const { modem, commands } = await open();
  const s = await wrapped(modem, receive);
  const data = randomBytes(MiB);
  // Salted with what the line's other users would trip on.
  ['\r\nNO CARRIER\r\n', '\r\nOK\r\n', '+++', '\r\nRDY\r\n', '+QSSLURC: "recv",0,5\r\n'].forEach((t, i) => data.write(t, 1000 + i * 200_000, 'latin1'));
  const t0 = performance.now();
  const [back] = await Promise.all([s.read(MiB), s.sendall(data)]);
  console.log(`${receive}: 1 MiB each way in ${(performance.now() - t0).toFixed(0)} ms (unpaced, in-process)`);
  expect(sha(back)).toBe(sha(data));
  if (receive === 'transparent') expect(commands().filter((c) => /QSSLSEND|QSSLRECV/.test(c))).toEqual([]);
  else expect(commands().filter((c) => c.startsWith('AT+QSSLRECV'))).toEqual([]);
  await s.close();
}, 60_000);

test('URCs would come to this port: refused before any open, with what to do, and nothing else sent', async () => {
  const { modem, commands } = await open({}, {});
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'transparent' });
  const e = await s.connect(['echo.test', 443]).catch((x: unknown) => x);
  expect(isQuectelError(e, 'URC_PORT_CONFLICT'), String(e)).toBe(true);
  expect(String(e)).toMatch(/usbat.*dataModeUrcPort.*atPort.*push/s);
  expect(commands().filter((c) => c.startsWith('AT+QSSLOPEN') || c.startsWith('AT+QURCCFG="urcport",'))).toEqual([]);
  // The modem is usable as before.
  const b = await wrapped(modem, 'buffer');
  await b.close();
});

test('dataModeUrcPort: URCs go there while the stream runs and come back when it closes', async () => {
  const { modem, commands } = await open();
  const s = await wrapped(modem);
  await s.send('x');
  await s.read(1);
  await s.close();
  expect(commands().filter((c) => /QURCCFG|QSSLOPEN|QSSLCLOSE/.test(c))).toEqual([
    'AT+QURCCFG="urcport"', 'AT+QURCCFG="urcport","usbmodem"', 'AT+QSSLOPEN=1,0,0,"echo.test",443,2', 'AT+QSSLCLOSE=0',
    'AT+QURCCFG="urcport","usbat"',
  ]);
  expect((await modem.send('AT+QURCCFG="urcport"')).lines).toEqual(['+QURCCFG: "urcport","usbat"']);
});

test('atPort on an interface URCs do not go to: nothing to move', async () => {
  const { modem, commands } = await open({ atPort: 'usbmodem' }, { atPort: 'usbmodem' });
  const s = await wrapped(modem);
  await s.send('y');
  expect((await s.read(1)).toString()).toBe('y');
  await s.close();
  expect(commands().filter((c) => c.startsWith('AT+QURCCFG'))).toEqual(['AT+QURCCFG="urcport"']);
});

test('the port is the connection\'s: other commands fail at once, other sockets are refused either way round', async () => {
  const { modem } = await open();
  const other = await wrapped(modem, 'buffer');
  const refused = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'transparent' })
    .then((x) => x.connect(['echo.test', 443])).catch((e: unknown) => e);
  expect(isOSError(refused, errno.EBUSY), String(refused)).toBe(true);
  await other.close();
  const s = await wrapped(modem);
  const t0 = performance.now();
  await expect(modem.send('AT+CSQ')).rejects.toSatisfy((e: unknown) => isQuectelError(e, 'AT_DATA_MODE'));
  await expect(modem.usocket.getaddrinfo('echo.test', 443)).rejects.toSatisfy((e: unknown) => isOSError(e, errno.EBUSY));
  const second = await wrapped(modem, 'buffer').catch((e: unknown) => e);
  expect(isOSError(second, errno.EBUSY), String(second)).toBe(true);
  expect(performance.now() - t0).toBeLessThan(1000);
  await s.close();
  // Back to normal.
  expect((await modem.send('AT+CSQ')).final).toBe('OK');
});

test('property: payloads holding +++, sent with no pause around it, come back whole; the stream stays in data mode', async () => {
  const { modem, trace } = await open();
  const s = await wrapped(modem);
  trace.length = 0;
  const chunk = fc.oneof(fc.constant('+++'), fc.constant('++++'), fc.string({ minLength: 1, maxLength: 40 }));
  await fc.assert(fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (parts) => {
    const text = `${parts.join('')}.`;
    const back = s.read(Buffer.byteLength(text));
    for (const p of [...parts, '.']) await s.send(p);
    return (await back).toString() === text;
  }), { numRuns: 30 });
  expect(modem.at.engine.dataChannel?.state).toBe('data');
  expect(trace.some((e) => e.text === 'OK' && e.dir === 'in')).toBe(false);
  await s.close();
}, 60_000);

test('close: everything sent first, a guard time of quiet, +++, the OK, then AT+QSSLCLOSE; the module has no connection left', async () => {
  const { modem, trace, module } = await open();
  const s = await wrapped(modem);
  await s.send(randomBytes(4096));
  await s.read(4096);
  trace.length = 0;
  await s.close();
  const escape = trace.find((e) => e.text === '+++ (escape)')!;
  const lastData = trace.filter((e) => e.dir === 'out' && e.kind === 'payload' && e.at < escape.at).at(-1);
  if (lastData) expect(escape.at - lastData.at).toBeGreaterThanOrEqual(GUARD);
  const ok = trace.find((e) => e.dir === 'in' && e.text === 'OK' && e.at > escape.at)!;
  expect(ok.at - escape.at).toBeGreaterThanOrEqual(GUARD);
  const close = trace.find((e) => e.text === 'AT+QSSLCLOSE=0')!;
  expect(close.at).toBeGreaterThan(ok.at);
  expect(module.state.conns.filter(Boolean)).toEqual([]);
});

test('the peer closes: what it sent is read, then EOF (empty bytes); the id is closed on the module', async () => {
  const { modem, module, commands } = await open();
  const s = await wrapped(modem);
  await s.send('bye');
  expect((await s.read(3)).toString()).toBe('bye');
  module.faults.peerClose(0);
  expect((await s.recv(10)).length).toBe(0);
  expect(s.getsocketsta()).toBe(0);
  await new Promise((r) => setTimeout(r, 50));
  expect(commands()).toContain('AT+QSSLCLOSE=0');
  expect(module.state.conns.filter(Boolean)).toEqual([]);
  await s.close();
  expect((await modem.send('AT')).final).toBe('OK');
});

test('Modem.close() with a transparent stream open leaves data mode first: the module answers commands afterwards', async () => {
  const { modem, module } = await open();
  const s = await wrapped(modem);
  await s.send('z');
  await s.read(1);
  await modem.close();
  expect(module.state.conns.filter(Boolean)).toEqual([]);
  const again = await Modem.open(module, { at: { guardTimeMs: GUARD } });
  cleanups.push(() => again.close());
  expect((await again.send('AT+QSSLSTATE')).lines).toEqual([]);
});

test('connectTls with receive: transparent is a Duplex over the line', async () => {
  const { modem } = await open();
  const stream = connectTls(modem, { host: 'echo.test', port: 443, receive: 'transparent' });
  await new Promise((r) => stream.once('secureConnect', r));
  stream.write('over the stream\n');
  const line = await new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
  expect(line).toBe('over the stream\n');
  stream.destroy();
  await new Promise((r) => stream.once('close', r));
  await new Promise((r) => setTimeout(r, GUARD * 5));
  expect(modem.at.engine.dataChannel).toBeUndefined();
});

test('firmware without transparent mode: NOT_SUPPORTED, saying so, and the URC port set back', async () => {
  const { modem, commands } = await open({ transparent: false });
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { receive: 'transparent' });
  const e = await s.connect(['echo.test', 443]).catch((x: unknown) => x);
  expect(isQuectelError(e, 'NOT_SUPPORTED'), String(e)).toBe(true);
  expect(commands()).toContain('AT+QURCCFG="urcport","usbat"');
  expect((await modem.send('AT+QURCCFG="urcport"')).lines).toEqual(['+QURCCFG: "urcport","usbat"']);
});
