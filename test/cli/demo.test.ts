/**
 * `ussl-bridge demo` as a person runs it: the built binary in a child process. It runs the seed's two examples on a
 * virtual module, one line per step with time and AT commands, the two-way example again with nothing uploaded and
 * one AT command for the open; BC25 says ussl is not supported and exits 4; with --port it runs against another
 * process's module and a server given by URL.
 */
import { createServer, type Server } from 'node:https';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { makeDemoPki, type DemoPki } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cliProcess.js';
import { startEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';

interface Step { example: string; step: string; ms: number; atCommands: number; ok: boolean; result: string; commands: string[] }

test('demo runs both examples step by step, with times, AT commands, uploads and the client subject', async () => {
  const r = await runCli(['demo']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const out = r.out;
  expect(out).toMatch(/^step +time +AT +result$/m);
  expect(out).toMatch(/^Modem\.open\(\) +\d+ ms +\d+ +Quectel EC25, firmware EC25\S+, SSL with 32 cipher suites, IP 10\.7\.157\.1$/m);
  expect(out).toMatch(/^getaddrinfo\('myssl\.com', 443\) +\d+ ms +1 +\S+ \(resolved by the module\)$/m);
  expect(out).toMatch(/^read\(256\) +\d+ ms +\d+ +\d+ bytes: HTTP\/1\.1 200 OK; the server saw TLSv1\.2, TLS_\w+$/m);
  // Cold two-way: the certificate and key go up; the server names the client it saw.
  expect(out).toMatch(/^wrap_socket\(…, cert=, key=\) +\d+ ms +\d+ +.*uploaded cc[0-9a-f]{6}\.pem, ck[0-9a-f]{6}\.pem \(size and checksum verified\)/m);
  expect(out).toContain('the server saw client CN=ussl-bridge demo client');
  // Warm: nothing uploaded, one AT command.
  expect(out).toMatch(/^connect\(\('mtls\.myssl\.com', 443\)\) +\d+ ms +1 +1 AT command: cc[0-9a-f]{6}\.pem, ck[0-9a-f]{6}\.pem already on the module: not uploaded/m);
  expect(out).toMatch(/^done in \d+ ms, \d+ AT commands$/m);
  expect(out).not.toContain('PRIVATE KEY');
});

test('demo --json prints one document; the warm open is exactly AT+QSSLOPEN', async () => {
  const r = await runCli(['demo', '--json']);
  expect(r.code).toBe(0);
  expect(r.err).toBe('');
  expect(r.out.trim().split('\n')).toHaveLength(1);
  const doc = JSON.parse(r.out) as { ok: boolean; module: { model: string; ssl: boolean }; steps: Step[]; atCommands: number };
  expect(doc.ok).toBe(true);
  expect(doc.module).toMatchObject({ model: 'EC25', ssl: true });
  expect(doc.steps.every((s) => s.ok && s.ms >= 0)).toBe(true);
  expect(doc.atCommands).toBe(doc.steps.reduce((n, s) => n + s.atCommands, 0));
  const cold = doc.steps.find((s) => s.example === 'two-way' && s.step.startsWith('wrap_socket'))!;
  expect(cold.commands.filter((c) => c.startsWith('AT+QFUPL='))).toHaveLength(2);
  const warm = doc.steps.find((s) => s.example === 'two-way, warm' && s.step.startsWith('connect'))!;
  expect(warm.commands).toEqual([expect.stringMatching(/^AT\+QSSLOPEN=1,\d,\d+,"mtls\.myssl\.com",443,0$/)]);
  expect(doc.steps.map((s) => s.example)).toEqual(expect.arrayContaining(['module', 'one-way', 'two-way', 'two-way, warm']));
});

test('demo --model BC25 says ussl is not supported there, shows the error and exits 4', async () => {
  const r = await runCli(['demo', '--model', 'BC25']);
  expect(r.code).toBe(4);
  expect(r.out).toMatch(/^Modem\.open\(\) .* no SSL AT commands/m);
  expect(r.out).toContain('BC25 is an NB-IoT module without the SSL AT commands');
  expect(r.out).toMatch(/^wrap_socket\(server_hostname=…\) +\d+ ms +0 +failed: ussl is not supported on BC25/m);
  expect(r.err).toBe('ussl-bridge: ussl is not supported on BC25: its firmware has no SSL AT commands (AT+QSSLCFG) [NOT_SUPPORTED]\n');
  expect(r.out + r.err).not.toMatch(/PDP/);
});

test('demo --trace prints the redacted AT trace on stderr: payloads as sizes, never key material', async () => {
  const r = await runCli(['demo', '--trace']);
  expect(r.code).toBe(0);
  expect(r.err).toMatch(/ms → AT\+QSSLOPEN=1,\d,\d+,"myssl\.com",443,0$/m);
  expect(r.err).toMatch(/ms → AT\+QFUPL="ck[0-9a-f]{6}\.pem",\d+,10$/m);
  expect(r.err).toMatch(/ms → \[\d+ bytes\]$/m);
  expect(r.err).not.toMatch(/PRIVATE KEY|CERTIFICATE-----|MII/);
  // The trace stays off stdout, which holds the steps only.
  expect(r.out).not.toMatch(/ms → AT/);
});

let pki: DemoPki;
let server: Server;
let port = 0;
let emulated: EmulateProcess | undefined;
beforeAll(async () => {
  pki = await makeDemoPki(['real.test']);
  server = createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => res.end('real server\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  emulated?.child.kill('SIGKILL');
  emulated = undefined;
});

test('demo --port URL --url https://host/ runs the one-way example against that module and server', async () => {
  emulated = await startEmulate(['--model', 'BG96', '--tcp', '0', '--host', `real.test=127.0.0.1:${port}`]);
  const r = await runCli(['--port', emulated.url, 'demo', '--url', 'https://real.test/']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain(`ussl-bridge demo on ${emulated.url}`);
  expect(r.out).toMatch(/^Modem\.open\(\) .* Quectel BG96, firmware BG96\S+, SSL with 13 cipher suites/m);
  expect(r.out).toMatch(/^read\(256\) +\d+ ms +\d+ +\d+ bytes: HTTP\/1\.1 200 OK$/m);
  expect(r.out).toContain('example 2 (two-way) skipped: give --cert and --key');
});

test('demo --port without --url is a usage error (exit 2) and opens nothing', async () => {
  const r = await runCli(['--port', 'socket://127.0.0.1:1', 'demo']);
  expect(r.code).toBe(2);
  expect(r.err).toBe('ussl-bridge: with --port (or USSL_PORT), give --url https://host/: a server the module can reach\n');
});
