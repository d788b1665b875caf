// The socat helper the serial tests stand on.
import { closeSync, constants, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect, test } from 'vitest';
import { startSocatPair } from '../helpers/socatPair.js';

test('links two ptys: bytes written to one end come out of the other', async () => {
  const socat = await startSocatPair();
  const flags = constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY;
  const fdA = openSync(socat.pathA, flags);
  const fdB = openSync(socat.pathB, flags);
  try {
    writeSync(fdA, 'AT\r');
    const buffer = Buffer.alloc(16);
    let got = '';
    for (let tries = 0; got.length < 3 && tries < 200; tries++) {
      try {
        got += buffer.toString('latin1', 0, readSync(fdB, buffer));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    expect(got).toBe('AT\r'); // raw, echo=0: no echo, no CR translation
  } finally {
    closeSync(fdA);
    closeSync(fdB);
    await socat.close();
  }
});

test('close() kills socat and removes the temp dir, and may be called twice', async () => {
  const socat = await startSocatPair();
  const dir = dirname(socat.pathA);
  expect(existsSync(socat.pathA) && existsSync(socat.pathB)).toBe(true);
  await socat.close();
  await socat.close();
  expect(existsSync(dir)).toBe(false);
});

test('says how to install socat when it is missing', async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await expect(startSocatPair()).rejects.toThrow(/socat is not installed/);
  } finally {
    process.env.PATH = savedPath;
  }
});
