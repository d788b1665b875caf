/**
 * Plain TCP behind AT+QIOPEN (§7.2), and the module served on a TCP port the way ser2net serves a serial line.
 */
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RawAtSession, VirtualModule, linkOf, serveTcp } from '../../src/emulator/index.js';

let echo: Server;
let port = 0;
beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  port = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

test('QIOPEN, QISEND, the recv URC, QIRD with totals, QISTATE, QICLOSE', async () => {
  const m = new VirtualModule({ model: 'BG96' });
  const at = new RawAtSession(linkOf(m));
  try {
    await at.waitUrc(/^RDY$/);
    for (const c of ['ATE0', 'AT+QIACT=1']) expect((await at.send(c)).final).toBe('OK');
    expect((await at.send(`AT+QIOPEN=1,2,"TCP","127.0.0.1",${port},0,0`)).final).toBe('OK');
    expect(await at.waitUrc(/^\+QIOPEN: 2,/)).toBe('+QIOPEN: 2,0');
    expect((await at.send('AT+QISEND=2,5', Buffer.from('hello'))).final).toBe('SEND OK');
    await at.waitUrc(/^\+QIURC: "recv",2$/);
    const r = await at.send('AT+QIRD=2,1500');
    expect(r.lines[0]).toBe('+QIRD: 5');
    expect(r.data.toString()).toBe('hello');
    expect((await at.send('AT+QIRD=2,0')).lines[0]).toBe('+QIRD: 5,5,0');
    expect((await at.send('AT+QISEND=2,0')).lines[0]).toBe('+QISEND: 5,5,0');
    expect((await at.send('AT+QISTATE=1,2')).lines[0]).toMatch(new RegExp(`^\\+QISTATE: 2,"TCP","127\\.0\\.0\\.1",${port},\\d+,2,1,2,0,"usbat"$`));
    // TCP and SSL share the id pool: id 2 is taken for QSSLOPEN too.
    expect((await at.send('AT+QSSLOPEN=1,1,2,"127.0.0.1",443,0')).final).toBe('ERROR');
    expect((await at.send('AT+QICLOSE=2')).final).toBe('OK');
    expect((await at.send('AT+QISTATE')).lines).toEqual(['OK']);
    expect((await at.send('AT+QICLOSE=7')).final).toBe('OK');
  } finally {
    m.dispose();
  }
});

test('served on TCP: a client sees the banner and gets answers; a second client is refused', async () => {
  const m = new VirtualModule({ model: 'EG800K', boot: { bootMs: 200 } });
  const served = await serveTcp(m, 0);
  const [host, p] = served.url.replace('socket://', '').split(':');
  const client = connect(Number(p), host);
  const got: Buffer[] = [];
  client.on('data', (d) => got.push(d));
  const text = () => Buffer.concat(got).toString('latin1');
  const until = async (needle: string) => {
    const deadline = Date.now() + 3000;
    while (!text().includes(needle)) {
      if (Date.now() > deadline) throw new Error(`no ${needle} in ${JSON.stringify(text())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    await until('+CPIN: READY\r\n');
    client.write('AT+CGMM\r');
    await until('OK\r\n');
    expect(text()).toContain('AT+CGMM\r\r\nEG800K\r\n\r\nOK\r\n');
    const second = connect(Number(p), host);
    const refused = await new Promise<string>((r) => second.on('data', (d) => r(d.toString())));
    expect(refused).toContain('BUSY');
    second.destroy();
  } finally {
    client.destroy();
    await served.close();
    m.dispose();
  }
});
