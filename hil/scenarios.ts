/**
 * Scenarios that hold on any module: run by `hil/module.hil.test.ts` on a real module (USSL_PORT) or, when none is
 * attached, on a virtual module behind a socat pseudo-terminal, through the native serialport binding either way.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { errno, isOSError, type Modem } from '../src/index.js';
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

/**
 * `AT+CFUN=1,1` while 256 KiB go out and come back: the calls in flight fail with ECONNRESET (or EIO for a send
 * whose outcome is unknown), the module is ready again, and a new connection carries data.
 */
export async function rebootMidTransfer(modem: Modem, echo: { host: string; port: number }): Promise<void> {
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket());
  await sock.connect([echo.host, echo.port]);
  const data = randomBytes(256 * 1024);
  const sending = sock.sendall(data).then(() => 'sent', (e: unknown) => e);
  const reading = sock.read(data.length).then(() => 'read', (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 200));
  await modem.send('AT+CFUN=1,1').catch(() => undefined);
  const outcomes = await Promise.all([sending, reading]);
  for (const o of outcomes) {
    expect(isOSError(o) && ([errno.ECONNRESET, errno.EIO] as number[]).includes(o.errno), `${String(o)}`).toBe(true);
  }
  await modem.whenReady(120_000);
  const again = await modem.ussl.wrap_socket(modem.usocket.socket());
  await again.connect([echo.host, echo.port]);
  await again.sendall('after the reboot\n');
  expect((await again.readline()).toString()).toBe('after the reboot\n');
  await again.close();
}

/** What to measure: data through an echo server both ways, or a download from a URL. */
export type ThroughputPlan =
  | { readonly kind: 'echo'; readonly host: string; readonly port: number; readonly bytes: number; readonly baud?: number }
  | { readonly kind: 'download'; readonly target: TlsTarget; readonly baud?: number };

/** Bytes per second through the module's TLS, and the share of the line (baud/10 bytes per second) when known. */
export async function throughput(modem: Modem, plan: ThroughputPlan): Promise<{ bytes: number; ms: number; bytesPerSecond: number; lineShare?: number; baud?: number }> {
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), plan.kind === 'download' ? { server_hostname: plan.target.host } : {});
  sock.settimeout(120);
  await sock.connect(plan.kind === 'echo' ? [plan.host, plan.port] : [plan.target.host, plan.target.port]);
  const t0 = performance.now();
  let bytes: number;
  if (plan.kind === 'echo') {
    const data = randomBytes(plan.bytes);
    const [, back] = await Promise.all([sock.sendall(data), sock.read(data.length)]);
    expect(back.equals(data)).toBe(true);
    bytes = data.length; // each way, at the same time: the line is full duplex
  } else {
    await sock.sendall(`GET ${plan.target.path} HTTP/1.0\r\nHost: ${plan.target.host}\r\n\r\n`);
    bytes = (await sock.read()).length;
  }
  const ms = performance.now() - t0;
  await sock.close();
  const bytesPerSecond = (bytes / ms) * 1000;
  return { bytes, ms, bytesPerSecond, ...(plan.baud ? { baud: plan.baud, lineShare: bytesPerSecond / (plan.baud / 10) } : {}) };
}
