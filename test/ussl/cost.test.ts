/**
 * What a wrap costs, counted in AT commands: a cold two-way wrap lists the files once, uploads what is missing and
 * configures a context; a second wrap with the same options costs exactly one command (`AT+QSSLOPEN`). After a
 * module restart mid-transfer, calls in flight fail, and the next wrap works without uploading again.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule } from '../../src/emulator/index.js';
import { errno, isOSError, Modem, type WrapSocketOptions } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let server: TlsEchoServer;
beforeAll(async () => {
  pki = await makePki();
  server = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key, ca: pki.ca.cert, requestCert: true });
});
afterAll(() => server.close());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ modem: Modem; module: VirtualModule; commands: string[]; options: WrapSocketOptions }> {
  const module = new VirtualModule({ model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${server.port}` }, boot: { rebootSilenceMs: 20 } });
  const commands: string[] = [];
  const modem = await Modem.open(module, { at: { trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
  cleanups.push(() => module.dispose(), () => modem.close());
  commands.length = 0;
  return { modem, module, commands, options: { server_hostname: 'myssl.test', cadata: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } };
}

async function roundTrip(modem: Modem, options: WrapSocketOptions): Promise<void> {
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await s.connect(['myssl.test', 443]);
  await s.send('ping\n');
  expect((await s.readline()).toString()).toBe('ping\n');
  await s.close();
}

test('cold: one listing, three uploads, one context; warm: exactly one command, AT+QSSLOPEN', async () => {
  const { modem, commands, options } = await setup();
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await s.connect(['myssl.test', 443]);
  const cold = [...commands];
  expect(cold.filter((c) => c === 'AT+QFLST')).toHaveLength(1);
  expect(cold.filter((c) => c.startsWith('AT+QFUPL='))).toHaveLength(3);
  expect(cold.filter((c) => c.startsWith('AT+QFDEL='))).toEqual([]); // the listing showed none of them: nothing to delete
  expect(cold.filter((c) => c.startsWith('AT+QSSLCFG='))).toEqual([
    'AT+QSSLCFG="sslversion",0,4', 'AT+QSSLCFG="ciphersuite",0,0XFFFF', expect.stringMatching(/^AT\+QSSLCFG="cacert",0,"UFS:ca[0-9a-f]{6}\.pem"$/),
    expect.stringMatching(/^AT\+QSSLCFG="clientcert",0,"UFS:cc[0-9a-f]{6}\.pem"$/), expect.stringMatching(/^AT\+QSSLCFG="clientkey",0,"UFS:ck[0-9a-f]{6}\.pem"$/),
    'AT+QSSLCFG="seclevel",0,2', 'AT+QSSLCFG="ignorelocaltime",0,1', 'AT+QSSLCFG="negotiatetime",0,300', 'AT+QSSLCFG="sni",0,1',
  ]);
  expect(cold.at(-1)).toMatch(/^AT\+QSSLOPEN=1,0,\d+,"myssl\.test",443,0$/);
  await s.send('one\n');
  expect((await s.readline()).toString()).toBe('one\n');
  await s.close();
  expect(server.lastClientCN).toBe('ussl-client');

  commands.length = 0;
  const t = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await t.connect(['myssl.test', 443]);
  expect(commands).toEqual([expect.stringMatching(/^AT\+QSSLOPEN=1,0,\d+,"myssl\.test",443,0$/)]);
  await t.close();
});

test('files already on the module with the same name and size are not uploaded again, even by a new session', async () => {
  const { modem, module, commands, options } = await setup();
  await roundTrip(modem, options);
  await modem.close();
  const again = await Modem.open(module, { at: { trace: (e: AtTraceEvent) => e.dir === 'out' && e.kind === 'command' && commands.push(e.text!) } });
  cleanups.push(() => again.close());
  commands.length = 0;
  await roundTrip(again, options);
  expect(commands.filter((c) => c === 'AT+QFLST')).toHaveLength(1);
  expect(commands.filter((c) => c.startsWith('AT+QFUPL='))).toEqual([]);
});

test('a restart mid-transfer: the calls in flight fail, the modem is ready again, the next wrap works without uploading', async () => {
  const { modem, module, commands, options } = await setup();
  const s = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await s.connect(['myssl.test', 443]);
  const big = randomBytes(512 * 1024);
  const sending = s.sendall(big).then(() => 'sent', (e: unknown) => e);
  const reading = s.read(big.length).then(() => 'read', (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 50));
  module.faults.reset();
  const [sent, read] = await Promise.all([sending, reading]);
  for (const outcome of [sent, read]) {
    expect(isOSError(outcome) && ([errno.ECONNRESET, errno.EIO] as number[]).includes(outcome.errno), String(outcome)).toBe(true);
  }
  await modem.whenReady(5000);
  commands.length = 0;
  await roundTrip(modem, options);
  expect(commands.filter((c) => c.startsWith('AT+QFUPL='))).toEqual([]);
  expect(commands.filter((c) => c === 'AT+QFLST')).toHaveLength(1); // files are trusted again only after a listing
});

test('uploaded() lists what the library put on the module; remove_uploaded() deletes it and the next wrap uploads again', async () => {
  const { modem, commands, options } = await setup();
  await roundTrip(modem, options);
  const mine = await modem.ussl.uploaded();
  expect(mine.map((f) => f.name).sort()).toEqual([expect.stringMatching(/^ca/), expect.stringMatching(/^cc/), expect.stringMatching(/^ck/)]);
  expect((await modem.ussl.remove_uploaded()).sort()).toEqual(mine.map((f) => f.name).sort());
  expect(await modem.ussl.uploaded()).toEqual([]);
  commands.length = 0;
  await roundTrip(modem, options);
  expect(commands.filter((c) => c.startsWith('AT+QFUPL='))).toHaveLength(3);
});
