/**
 * Scenarios that hold on any module: run by `hil/module.hil.test.ts` on a real module (USSL_PORT) or, when none is
 * attached, on a virtual module behind a socat pseudo-terminal, through the native serialport binding either way.
 */
import { expect } from 'vitest';
import type { Modem } from '../src/modem/Modem.js';
import { formatChecksum, quectelChecksum } from '../src/protocol/checksum.js';

/** The module came up: identified, registered, with an address. */
export function cameUp(modem: Modem): void {
  expect(modem.state).toBe('connected.ready');
  expect(modem.info.manufacturer).toMatch(/^Quectel/);
  expect(modem.info.model.length).toBeGreaterThan(0);
  expect(modem.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
}

/** A file goes up through AT+QFUPL with the checksum the module computes matching ours, and is deleted again. */
export async function uploadVerified(modem: Modem): Promise<void> {
  const name = 'ussl_hil.txt';
  const data = Buffer.from(`ussl-bridge hil ${Date.now()}\n`);
  await modem.send(`AT+QFDEL="${name}"`).catch(() => undefined);
  const r = await modem.send(`AT+QFUPL="${name}",${data.length},10`, { payload: data, payloadAfter: 'connect', expect: ['+QFUPL:'] });
  expect(r.lines[0]?.toLowerCase()).toBe(`+qfupl: ${data.length},${formatChecksum(quectelChecksum(data))}`);
  const list = await modem.send(`AT+QFLST="${name}"`, { expect: ['+QFLST:'] });
  expect(list.lines[0]).toMatch(new RegExp(`"(UFS:)?${name}",${data.length}$`));
  await modem.send(`AT+QFDEL="${name}"`);
}

/** SSL contexts answer queries in the documented form (§2.4); a query never changes the setting (T01). */
export async function sslContextQueries(modem: Modem): Promise<void> {
  if (!modem.info.ssl) return;
  await modem.send('AT+QSSLCFG="seclevel",5,0');
  expect((await modem.send('AT+QSSLCFG="seclevel",5', { expect: ['+QSSLCFG:'] })).lines).toEqual(['+QSSLCFG: "seclevel",5,0']);
  expect((await modem.send('AT+QSSLCFG="ciphersuite",5', { expect: ['+QSSLCFG:'] })).lines[0]).toMatch(/^\+QSSLCFG: "ciphersuite",5,0X[0-9A-F]{4}$/);
}
