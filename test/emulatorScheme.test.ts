import { expect, test } from 'vitest';
import { isQuectelError, openTransport } from '../src/index.js';

function collect(t: { on(e: 'data', l: (c: Uint8Array) => void): unknown }): () => string {
  const parts: Buffer[] = [];
  t.on('data', (c) => parts.push(Buffer.from(c)));
  return () => Buffer.concat(parts).toString('latin1');
}

async function until(text: () => string, needle: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!text().includes(needle)) {
    if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(needle)} in ${JSON.stringify(text())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('emulator:EC25 opens a booting virtual module through the serialport stack', async () => {
  const t = await openTransport('emulator:EC25');
  const text = collect(t);
  await until(text, '+QIND: PB DONE\r\n');
  await t.write(Buffer.from('ATI\r'));
  await until(text, 'OK\r\n');
  expect(text()).toMatch(/ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G\r\n\r\nOK\r\n$/);
  await t.close();
});

test('an unknown model and a bad baud rate are clear errors', async () => {
  await expect(openTransport('emulator:XX99')).rejects.toSatisfy((e) => isQuectelError(e, 'EMULATOR_BAD_MODEL'));
  await expect(openTransport('emulator:BG96?baud=fast')).rejects.toSatisfy((e) => isQuectelError(e, 'TRANSPORT_BAD_OPTION'));
});

test('?baud paces the module: 2000 bytes at 9600 baud take about two seconds, not milliseconds', async () => {
  const t = await openTransport('emulator:BG96?baud=9600');
  const text = collect(t);
  await until(text, '+QIND: SMS DONE\r\n');
  await t.write(Buffer.from('ATE0\r'));
  await until(text, 'OK\r\n');
  await t.write(Buffer.from(`AT+QFUPL="p.bin",2000,10\r`));
  await until(text, 'CONNECT\r\n');
  const t0 = performance.now();
  await t.write(Buffer.alloc(2000, 0x55));
  await until(text, '+QFUPL: 2000', 10_000);
  const ms = performance.now() - t0;
  // 2000 bytes at 960 bytes/s is at least 2083 ms; the bound is loose on the upper side only.
  expect(ms).toBeGreaterThan(1900);
  await t.close();
}, 20_000);
