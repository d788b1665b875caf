/**
 * Scenarios that hold on any module: run by `hil/module.hil.test.ts` on a real module (USSL_PORT) or, when none is
 * attached, on a virtual module behind a socat pseudo-terminal, through the native serialport binding either way.
 */
import { expect } from 'vitest';
import type { Modem } from '../src/index.js';
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

/** Where the TLS scenario connects: a server the suite started (virtual module) or a URL for real hardware. */
export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** CA certificates to verify the server with, when the suite knows them. */
  readonly cadata?: string;
}

/**
 * A real TLS connection through the module: `wrap_socket` on an unconnected socket, `connect` (AT+QSSLOPEN), an
 * HTTP/1.0 request, the status line back, close. The connection's client id is free again afterwards.
 */
export async function tlsRoundTrip(modem: Modem, target: TlsTarget): Promise<string> {
  if (!modem.info.ssl) return 'no SSL on this module';
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), {
    server_hostname: target.host, ...(target.cadata ? { cadata: target.cadata } : {}),
  });
  sock.settimeout(60);
  await sock.connect([target.host, target.port]);
  await sock.sendall(`GET ${target.path} HTTP/1.0\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
  const status = (await sock.readline()).toString().trim();
  expect(status).toMatch(/^HTTP\/1\.[01] \d{3} /);
  await sock.close();
  expect(modem.connections.all).toEqual([]);
  return status;
}
