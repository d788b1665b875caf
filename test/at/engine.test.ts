/**
 * The AT engine against the virtual module, through the serialport stack: replies, typed errors, URCs, payloads,
 * and the failures that must end in a clear error and a working engine (lessons.md §11).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { isQuectelError, type QuectelErrorCode } from '../../src/errors.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';
import { virtualClient, type VirtualClient } from '../helpers/virtualClient.js';

const open: VirtualClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.dispose();
});
async function client(...args: Parameters<typeof virtualClient>): Promise<VirtualClient> {
  const c = await virtualClient(...args);
  open.push(c);
  return c;
}
const code = (c: QuectelErrorCode) => (e: unknown) => isQuectelError(e, c);

describe('replies', () => {
  test('echo on and off, information lines, the final code', async () => {
    const { at } = await client();
    expect(await at.send('AT')).toMatchObject({ lines: [], final: 'OK' }); // echo still on: skipped
    await at.send('ATE0');
    expect((await at.send('ATI')).lines).toEqual(['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G']);
    expect((await at.send('AT+CPIN?', { expect: ['+CPIN:'] })).lines).toEqual(['+CPIN: READY']);
  });

  test('+CME ERROR is typed with its number and meaning; ERROR carries the QIGETERROR detail where asked', async () => {
    const { at } = await client();
    await at.send('ATE0');
    const cme = await at.send('AT+QFDEL="nope.pem"').catch((e: unknown) => e);
    expect(isQuectelError(cme, 'AT_CME_ERROR') && cme.context.cme).toBe(405);
    expect((cme as Error).message).toContain('file not found');
    const err = await at.send('AT+QSSLOPEN=1,1', { qiErrorDetail: true }).catch((e: unknown) => e);
    expect(isQuectelError(err, 'AT_ERROR') && err.context.qiError).toBe(552);
    expect((await at.send('AT')).final).toBe('OK');
  });

  test('a URC between the echo and the reply is delivered once and the reply stays intact (T08)', async () => {
    const { at, module } = await client();
    const urcs: string[] = [];
    at.onUrc('+QIURC:', (l) => urcs.push(l));
    module.faults.urcAfterEcho('+QIURC: "pdpdeact",1', 'AT+CPIN');
    expect((await at.send('AT+CPIN?', { expect: ['+CPIN:'] })).lines).toEqual(['+CPIN: READY']);
    expect(urcs).toEqual(['+QIURC: "pdpdeact",1']);
  });

  test('a command with CR or LF in it never reaches the module', async () => {
    const { at, module } = await client();
    const seen: string[] = [];
    module.on('command', (l) => seen.push(l));
    await expect(at.send('AT+QFDEL="a"\r\nAT+QPOWD')).rejects.toSatisfy(code('INVALID_ARGUMENT'));
    expect(seen).toEqual([]);
  });
});

describe('payloads', () => {
  test('QFUPL after CONNECT, QFDWL of a file that contains its own trailer text, checksums verified', async () => {
    const { at } = await client();
    await at.send('ATE0');
    const file = Buffer.concat([Buffer.from('x\r\n+QFDWL: 9,1\r\n\r\nOK\r\n'), randomBytes(3000)]);
    const up = await at.send(`AT+QFUPL="f.bin",${file.length},5`, { payload: file, payloadAfter: 'connect', expect: ['+QFUPL:'] });
    expect(up.lines).toEqual([`+QFUPL: ${file.length},${formatChecksum(quectelChecksum(file))}`]);
    const down = await at.send('AT+QFDWL="f.bin"', { download: true, expect: ['+QFDWL:'] });
    expect(Buffer.from(down.data).equals(file)).toBe(true);
    expect(down.lines).toEqual([`+QFDWL: ${file.length},${formatChecksum(quectelChecksum(file))}`]);
  });

  test('traces redact payloads by default and show them only when asked', async () => {
    const events: AtTraceEvent[] = [];
    const { at } = await client({}, { trace: (e) => events.push(e) });
    await at.send('ATE0');
    const secret = Buffer.from('-----BEGIN PRIVATE KEY-----');
    await at.send(`AT+QFUPL="k.pem",${secret.length}`, { payload: secret, payloadAfter: 'connect' });
    const out = events.find((e) => e.kind === 'payload');
    expect(out).toMatchObject({ dir: 'out', length: secret.length });
    expect(out?.bytes).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain('PRIVATE');
  });
});

describe('failures end in a clear error and a working engine', () => {
  test('a late OK after a timeout is not credited to the next command (fence)', async () => {
    const { at, module } = await client();
    await at.send('ATE0');
    module.faults.delayResponse(400, 'AT+CGMM');
    await expect(at.send('AT+CGMM', { timeoutMs: 100 })).rejects.toSatisfy(code('AT_TIMEOUT'));
    // The late "BG96 / OK" arrives while the next command waits; the engine fences before sending it.
    const r = await at.send('AT+CGMR');
    expect(r.lines).toEqual(['BG96MAR02A07M1G']);
  });

  test('a reboot in the middle of a command: AT_MODULE_RESET, the reset event, then commands work again', async () => {
    const { at, module } = await client({ boot: { rebootSilenceMs: 50 } });
    await at.send('ATE0');
    const resets: string[] = [];
    at.on('reset', (l) => resets.push(l));
    module.faults.resetDuringCommand('AT+QIACT');
    const pending = at.send('AT+QIACT=1', { timeoutMs: 5000 });
    await expect(pending).rejects.toSatisfy(code('AT_MODULE_RESET'));
    expect(resets).toEqual(['RDY']);
    expect((await at.send('AT')).final).toBe('OK');
  });

  test('unplug: pending and later commands fail with TRANSPORT_CLOSED, the close says disconnected', async () => {
    const { at, module } = await client();
    await at.send('ATE0');
    const closed = new Promise((r) => at.on('close', r));
    module.faults.delayResponse(1000);
    module.once('command', () => module.faults.unplug());
    const pending = at.send('AT+CGMM');
    await expect(pending).rejects.toSatisfy(code('TRANSPORT_CLOSED'));
    expect(await closed).toMatchObject({ reason: 'disconnected' });
    await expect(at.send('AT')).rejects.toSatisfy(code('TRANSPORT_CLOSED'));
  });

  test('no answer at all: a timeout, then AT_NO_ANSWER for what waits, never a hang', async () => {
    const { at, module } = await client({}, { fenceTimeoutMs: 100, fenceAttempts: 2 });
    await at.send('ATE0');
    const down = new Promise<string>((r) => at.on('reset', r));
    await at.send('AT+QPOWD');
    expect(await down).toBe('POWERED DOWN');
    const first = at.send('AT', { timeoutMs: 100 });
    const second = at.send('AT', { timeoutMs: 100 });
    await expect(first).rejects.toSatisfy(code('AT_TIMEOUT'));
    await expect(second).rejects.toSatisfy(code('AT_NO_ANSWER'));
  });

  test('an AbortSignal cancels a queued command and one in flight', async () => {
    const { at, module } = await client();
    await at.send('ATE0');
    module.faults.delayResponse(300, 'AT+CGMM');
    const inFlight = new AbortController();
    const queued = new AbortController();
    const a = at.send('AT+CGMM', { signal: inFlight.signal });
    const b = at.send('AT+GMR', { signal: queued.signal });
    queued.abort();
    inFlight.abort();
    await expect(a).rejects.toSatisfy(code('AT_ABORTED'));
    await expect(b).rejects.toSatisfy(code('AT_ABORTED'));
    expect((await at.send('AT+CGMR')).lines).toEqual(['BG96MAR02A07M1G']);
  });
});

test('the late result of an open: OK first, +QIOPEN later, other commands run in between', async () => {
  const { createServer } = await import('node:net');
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const { at } = await client({ latency: { handshakeMs: 0 } });
    await at.send('ATE0');
    await at.send('AT+QIACT=1');
    const opening = at.send(`AT+QIOPEN=1,0,"TCP","127.0.0.1",${port},0,0`, { lateResult: { prefix: '+QIOPEN: 0,', timeoutMs: 5000 } });
    const r = await opening;
    expect(r.late).toBe('+QIOPEN: 0,0');
    const data = randomBytes(1460);
    expect((await at.send('AT+QISEND=0,1460', { payload: data })).final).toBe('SEND OK');
    const got: Buffer[] = [];
    while (Buffer.concat(got).length < data.length) {
      const rd = await at.send('AT+QIRD=0,1500', { dataPrefix: '+QIRD:' });
      got.push(Buffer.from(rd.data));
    }
    expect(createHash('sha256').update(Buffer.concat(got)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  } finally {
    server.close();
  }
});
