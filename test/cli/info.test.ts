/**
 * `ussl-bridge info` as a person runs it: the built binary on a virtual module. It reports identity, network, PDP,
 * SSL and files without changing anything, also for a model without SSL, and a port that cannot be opened is exit 3.
 */
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cliProcess.js';

test('info --json reports identity, SIM, registration, PDP, SSL and files; it activates nothing', async () => {
  const r = await runCli(['info', '--json', '--trace']);
  expect(r.code, r.err).toBe(0);
  const doc = JSON.parse(r.out) as Record<string, unknown>;
  expect(doc).toMatchObject({
    port: 'virtual EC25',
    module: { manufacturer: 'Quectel', model: 'EC25', family: 'lte', imei: expect.stringMatching(/^\d{15}$/) },
    sim: 'READY',
    registration: expect.arrayContaining([{ command: 'AT+CEREG?', stat: 1, text: 'registered, home' }]),
    operator: { name: expect.any(String), act: 'LTE' },
    signal: { rssi: expect.any(Number), dbm: expect.any(Number) },
    urcPort: 'usbat',
    pdp: [],
    ssl: { supported: true, params: expect.arrayContaining(['sslversion', 'ciphersuite', 'seclevel']) },
    files: { entries: [], free: expect.any(Number), total: expect.any(Number) },
  });
  expect((doc.ssl as { cipherSuites: unknown[] }).cipherSuites).toHaveLength(32);
  // Looking only: no PDP activation, no SSL or APN setting written.
  expect(r.err).not.toMatch(/→ AT\+(QIACT=|QICSGP|QSSLCFG=")/);
});

test('info on BC25 says it has no SSL and no file commands, and still exits 0', async () => {
  const r = await runCli(['info', '--model', 'BC25']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/^item +value$/m);
  expect(r.out).toMatch(/^module +Quectel_Ltd BC25 \(NB-IoT\), revision BC25\w+$/m);
  expect(r.out).toMatch(/^SSL +no: this firmware has no SSL AT commands \(AT\+QSSLCFG\), so ussl is not supported$/m);
  expect(r.out).toMatch(/^PDP +context 1: [\d.]+$/m);
});

test('a port that cannot be opened is exit 3, with the transport\'s code', async () => {
  const missing = await runCli(['--port', '/dev/ttyNOSUCHPORT', 'info']);
  expect(missing.code).toBe(3);
  expect(missing.err).toMatch(/^ussl-bridge: .*\[TRANSPORT_NOT_FOUND\]\n$/);
  const refused = await runCli(['--json', '--port', 'socket://127.0.0.1:1', 'info']);
  expect(refused.code).toBe(3);
  expect(refused.out).toBe('');
  expect(JSON.parse(refused.err)).toMatchObject({ error: { exit: 3, code: expect.stringMatching(/^TRANSPORT_/) } });
});
