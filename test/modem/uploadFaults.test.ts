/**
 * Uploads that go wrong on the module: a byte changed on the line, bytes lost, no room, a file that appeared under
 * the name. Each is a clear FILE_UPLOAD_FAILED naming its cause, leaves no broken file behind, and a TLS open that
 * needed the file fails as a socket error without any SSL context pointing at it; the next try works.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { UploadFault } from '../../src/emulator/index.js';
import { isQuectelError } from '../../src/errors.js';
import { errno, isOSError } from '../../src/ussl/OSError.js';
import { rig, runCleanups, settle } from '../attack/harness.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

let pki: Pki;
let tls: TlsEchoServer;
beforeAll(async () => {
  pki = await makePki();
  tls = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
});
afterAll(() => tls.close());
afterEach(runCleanups);

const CASES: ReadonlyArray<[UploadFault, string, RegExp]> = [
  ['corrupt', 'checksum', /expected \d+ bytes with checksum/],
  ['short', 'timeout', /421/],
  ['full', 'full', /403/],
  ['exists', 'module', /407/],
];

describe('modem.files.upload', () => {
  test.each(CASES)('%s: FILE_UPLOAD_FAILED (%s), and no file of that name is left', async (fault, reason, message) => {
    const { modem, module } = await rig();
    const data = randomBytes(3000);
    module.faults.uploadFault(fault);
    const r = await settle(modem.files.upload('cert.pem', data, { gapTimeoutS: 1 }));
    expect(!r.ok && isQuectelError(r.error, 'FILE_UPLOAD_FAILED') && r.error.context.reason).toBe(reason);
    expect(!r.ok && (r.error as Error).message + String((r.error as Error).cause ?? '')).toMatch(message);
    expect((await modem.files.list()).map((f) => f.name)).not.toContain('cert.pem');
    // The fault was one-shot: the same upload now goes through, verified.
    expect(await modem.files.upload('cert.pem', data)).toEqual({ name: 'cert.pem', size: 3000 });
  }, 20_000);
});

describe('wrap_socket whose CA upload fails', () => {
  test.each(['corrupt', 'full'] as const)('%s: connect fails with EIO, no SSL context names the file, the next wrap uploads and opens', async (fault) => {
    const { modem, module, commands } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tls.port}` } });
    module.faults.uploadFault(fault);
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    const r = await settle(s.connect(['myssl.test', 443]));
    expect(!r.ok && isOSError(r.error, errno.EIO), String(!r.ok && r.error)).toBe(true);
    expect(commands.filter((c) => c.startsWith('AT+QSSLCFG="cacert"'))).toEqual([]);
    expect(commands.some((c) => c.startsWith('AT+QSSLOPEN'))).toBe(false);
    expect((await modem.ussl.uploaded()).length).toBe(0);

    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    await t.connect(['myssl.test', 443]);
    expect((await modem.ussl.uploaded()).length).toBe(1);
    await t.close();
  }, 20_000);
});

describe('wrap_socket uploads without a delete first when the listing showed no such file', () => {
  test('a cold wrap sends no AT+QFDEL; a file that appeared under the name after all (407) is replaced and the wrap opens', async () => {
    const { modem, module, commands } = await rig({ hosts: { 'myssl.test': `127.0.0.1:${tls.port}` } });
    module.faults.uploadFault('exists');
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    await s.connect(['myssl.test', 443]);
    // The listing found nothing, so the upload went first; its 407 cost one delete and one more upload.
    const files = commands.filter((c) => /^AT\+QF(LST|DEL|UPL)/.test(c)).map((c) => c.replace(/=.*/, ''));
    expect(files).toEqual(['AT+QFLST', 'AT+QFUPL', 'AT+QFDEL', 'AT+QFUPL']);
    expect((await modem.ussl.uploaded()).length).toBe(1);
    await s.close();

    await modem.ussl.remove_uploaded();
    commands.length = 0;
    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: pki.ca.cert });
    await t.connect(['myssl.test', 443]);
    expect(commands.filter((c) => /^AT\+QF(DEL|UPL)/.test(c)).map((c) => c.replace(/=.*/, ''))).toEqual(['AT+QFUPL']);
    await t.close();
  }, 20_000);
});
