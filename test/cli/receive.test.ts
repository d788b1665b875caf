/**
 * `--receive buffer|push|transparent` of `get` and `demo`, the module's three access modes, as a person runs them:
 * the built binary in a child process. The same body arrives byte for byte in each mode, on stdout, in a file and
 * with `--json`; the progress bar is drawn in each; transparent mode works out of the box on the virtual module and,
 * on a port (another process's module over socket://), with `--data-urc-port`, without which it is refused before the
 * module is opened. The README's CLI example with `--receive` runs as shown.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { RECEIVE_MODES } from '../../src/cli/target.js';
import { makeDemoPki } from '../../src/emulator/index.js';
import type { ReceiveMode } from '../../src/modem/services/Connection.js';
import { CLI, runCli } from '../helpers/cliProcess.js';
import { startEmulate, stopEmulate, type EmulateProcess } from '../helpers/emulateProcess.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const KiB = 1024;
// Random bytes with what a data mode must pass as data: the escape sequence and AT text.
const blob = Buffer.concat([randomBytes(100 * KiB), Buffer.from('+++AT+QSSLCLOSE=0\r\n+++'), randomBytes(156 * KiB)]);
const blobSha = createHash('sha256').update(blob).digest('hex');
let dir: string;
let ca: string;
let server: Server;
let keeper: TlsServer;
let hosts: string[];
let term: TmuxSession | undefined;
let emu: EmulateProcess | undefined;

beforeAll(async () => {
  const pki = await makeDemoPki(['big.test']);
  dir = mkdtempSync(join(tmpdir(), 'ussl-receive-'));
  ca = join(dir, 'ca.pem');
  writeFileSync(ca, pki.ca.cert);
  server = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    if (req.url === '/blob') res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
    else if (req.url === '/moved') res.writeHead(302, { location: '/small' }).end('moved\n');
    else if (req.url === '/small') res.end('small\n');
    else res.writeHead(404).end('not here\n');
  });
  // A server that keeps the connection of its redirect open although the request asked it to close.
  keeper = createTlsServer({ cert: pki.server.cert, key: pki.server.key }, (sock) => {
    let head = '';
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      if (head.startsWith('GET /keep ')) sock.write('HTTP/1.1 302 Found\r\nLocation: /small\r\nContent-Length: 6\r\n\r\nmoved\n');
      else sock.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsmall\n');
    });
    sock.on('error', () => {});
  });
  await Promise.all([server, keeper].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const portOf = (s: Server | TlsServer) => (s.address() as { port: number }).port;
  hosts = ['--host', `big.test=127.0.0.1:${portOf(server)}`, '--host', `keep.test=127.0.0.1:${portOf(keeper)}`];
});

afterEach(async () => {
  term?.kill();
  term = undefined;
  await stopEmulate(emu);
  emu = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await Promise.all([server, keeper].map((s) => new Promise<void>((r) => s.close(() => r()))));
  rmSync(dir, { recursive: true, force: true });
});

const suffix = (mode: ReceiveMode) => (mode === 'buffer' ? '' : ` in ${mode} mode`);
const bodies = new Map<ReceiveMode, Buffer>();

test.each(RECEIVE_MODES)('get --receive %s: the body byte for byte on stdout, the summary on stderr, exit 0', async (mode) => {
  const r = await runCli([...hosts, 'get', '--ca', ca, '--receive', mode, 'https://big.test/blob']);
  expect(r.code, r.err).toBe(0);
  expect(r.stdout.equals(blob), `${r.stdout.length} bytes on stdout`).toBe(true);
  expect(r.err).toMatch(new RegExp(`^HTTP/1\\.1 200 OK: 256\\.0 KiB in .*, sha256 ${blobSha}; \\d+ AT commands on virtual EC25${suffix(mode)}\\n$`));
  bodies.set(mode, r.stdout);
});

test('the three modes deliver the same bytes', () => {
  expect([...bodies.keys()]).toEqual(['buffer', 'push', 'transparent']);
  const [buffer, push, transparent] = [...bodies.values()];
  expect(push!.equals(buffer!)).toBe(true);
  expect(transparent!.equals(buffer!)).toBe(true);
});

test.each(RECEIVE_MODES)('--json get -o FILE --receive %s: one document naming the mode, the file the same bytes', async (mode) => {
  const file = join(dir, `${mode}.bin`);
  const r = await runCli([...hosts, '--json', 'get', '--ca', ca, '--receive', mode, '-o', file, 'https://big.test/blob']);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe('');
  expect(r.out.trim().split('\n')).toHaveLength(1);
  const doc = JSON.parse(r.out) as Record<string, unknown>;
  expect(doc).toMatchObject({ status: 200, bytes: blob.length, sha256: blobSha, verified: true, file, module: 'virtual EC25', receive: mode });
  expect(readFileSync(file).equals(blob)).toBe(true);
});

test('without --receive, get uses buffer mode, as the library does', async () => {
  const r = await runCli([...hosts, '--json', '--trace', 'get', '--ca', ca, 'https://big.test/small']);
  expect(r.code, r.err).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ receive: 'buffer' });
  expect(r.err).toMatch(/→ AT\+QSSLOPEN=\d+,\d+,\d+,"big\.test",443,0$/m);
  expect(r.err).toMatch(/→ AT\+QSSLRECV=/);
});

test('the trace shows each mode\'s open: 1 with no AT+QSSLRECV; 2 with URCs moved to usbmodem and back', async () => {
  const push = await runCli([...hosts, '--trace', 'get', '--ca', ca, '--receive', 'push', 'https://big.test/small']);
  expect(push.code, push.err).toBe(0);
  expect(push.out).toBe('small\n');
  expect(push.err).toMatch(/→ AT\+QSSLOPEN=\d+,\d+,\d+,"big\.test",443,1$/m);
  expect(push.err).not.toMatch(/AT\+QSSLRECV/);
  const transparent = await runCli([...hosts, '--trace', 'get', '--ca', ca, '--receive', 'transparent', 'https://big.test/small']);
  expect(transparent.code, transparent.err).toBe(0);
  expect(transparent.out).toBe('small\n');
  expect(transparent.err).toMatch(/→ AT\+QURCCFG="urcport","usbmodem"$[\s\S]*→ AT\+QSSLOPEN=\d+,\d+,\d+,"big\.test",443,2$[\s\S]*← CONNECT$[\s\S]*→ AT\+QURCCFG="urcport","usbat"$/m);
  expect(transparent.err).not.toMatch(/AT\+QSSLRECV/);
});

test('-L in transparent mode: the redirect\'s connection is closed before the next one takes the port', async () => {
  const r = await runCli([...hosts, 'get', '--ca', ca, '--receive', 'transparent', '-L', 'https://big.test/moved']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toBe('small\n');
});

test('-L in transparent mode past a server that keeps the redirect\'s connection open: closed after a second', async () => {
  const t0 = performance.now();
  const r = await runCli([...hosts, 'get', '--receive', 'transparent', '-L', 'https://keep.test/keep']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toBe('small\n');
  expect(performance.now() - t0).toBeLessThan(20_000);
});

test.each(['push', 'transparent'] as const)('on a terminal in %s mode the progress bar is drawn on stderr and reaches the full size', async (mode) => {
  const file = join(dir, `tty-${mode}.bin`);
  term = startTmux(`${process.execPath} ${CLI} ${hosts.join(' ')} get --ca ${ca} --receive ${mode} -o ${file} https://big.test/blob`, {
    env: { USSL_PORT: undefined },
  });
  const pane = await term.waitFor(/\[exited \d+\]/, 60_000);
  expect(pane).toContain('[exited 0]');
  expect(pane).toMatch(/█+ 100% \| 256\.0 KiB of 256\.0 KiB \| [\d.]+ (KiB|MiB)\/s \| ETA 0s/);
  expect(pane).toContain(`AT commands on virtual EC25 in ${mode} mode`);
  expect(readFileSync(file).equals(blob)).toBe(true);
}, 60_000);

test('on a port, transparent needs --data-urc-port: refused before the module is opened, then the same bytes with it', async () => {
  emu = await startEmulate(['--tcp', '0', '--trace', ...hosts]);
  const before = emu.out();
  const refused = await runCli(['--port', emu.url, 'get', '--ca', ca, '--receive', 'transparent', 'https://big.test/blob']);
  expect(refused.code).toBe(2);
  expect(refused.out).toBe('');
  expect(refused.err).toBe('ussl-bridge: --receive transparent on a port needs --data-urc-port NAME: another AT interface (usbat, usbmodem, uart1) ' +
    'for URCs to go to while this port carries the connection\'s bytes, or --at-port NAME, the interface this port is, when URCs go ' +
    'elsewhere already; or use --receive push, nearly as fast\n');
  expect(emu.out(), 'the module saw something of the refused command').toBe(before);

  const r = await runCli(['--port', emu.url, '--data-urc-port', 'usbmodem', 'get', '--ca', ca, '--receive', 'transparent', 'https://big.test/blob']);
  expect(r.code, r.err).toBe(0);
  expect(r.stdout.equals(blob)).toBe(true);
  expect(r.err).toMatch(new RegExp(`sha256 ${blobSha}; \\d+ AT commands on socket://\\S+ in transparent mode\\n$`));
  expect(emu.out()).toMatch(/→ AT\+QURCCFG="urcport","usbmodem"$[\s\S]*→ AT\+QSSLOPEN=.*,2$/m);
}, 60_000);

test('--at-port naming the interface URCs go to is not enough: the module says why, exit 2', async () => {
  emu = await startEmulate(['--tcp', '0', ...hosts]);
  const r = await runCli(['--port', emu.url, '--at-port', 'usbat', 'get', '--ca', ca, '--receive', 'transparent', 'https://big.test/small']);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/transparent mode would lose URCs: they go to usbat, this port.*\[URC_PORT_CONFLICT\]\n$/);
}, 60_000);

test.each(['push', 'transparent'] as const)('demo --receive %s runs the seed\'s examples in that mode', async (mode) => {
  interface Step { example: string; step: string; ok: boolean; commands: string[] }
  const r = await runCli(['demo', '--json', '--receive', mode]);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe('');
  const doc = JSON.parse(r.out) as { ok: boolean; receive: string; steps: Step[] };
  expect(doc).toMatchObject({ ok: true, receive: mode });
  const commands = doc.steps.flatMap((s) => s.commands);
  const opens = commands.filter((c) => c.startsWith('AT+QSSLOPEN='));
  expect(opens).toHaveLength(3);
  for (const open of opens) expect(open).toMatch(new RegExp(`,${mode === 'push' ? 1 : 2}$`));
  expect(commands.filter((c) => c.startsWith('AT+QSSLRECV'))).toEqual([]);
  expect(doc.steps.filter((s) => s.step.startsWith('read')).map((s) => s.ok)).toEqual([true, true, true]);
  const text = await runCli(['demo', '--receive', mode]);
  expect(text.code, text.err).toBe(0);
  expect(text.out).toMatch(new RegExp(`^ussl-bridge demo on virtual EC25 \\(emulator:EC25\\), ${mode} mode$`, 'm'));
  expect(text.out).toContain('the server saw client CN=ussl-bridge demo client');
}, 60_000);

test('help: get and demo list --receive with its choices, default and an example; the program lists --data-urc-port and --at-port', async () => {
  for (const command of ['get', 'demo']) {
    const r = await runCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.out.replace(/\s+/g, ' ')).toMatch(/--receive <mode> the module's access mode: .* \(choices: "buffer", "push", "transparent", default: "buffer"\)/);
    expect(r.out).toMatch(new RegExp(`^  \\$ ussl-bridge .*${command} --receive (push|transparent)`, 'm'));
  }
  const top = await runCli(['--help']);
  expect(top.out.replace(/\s+/g, ' ')).toMatch(/--data-urc-port <name> .* \(choices: "usbat", "usbmodem", "uart1"\)/);
  expect(top.out.replace(/\s+/g, ' ')).toMatch(/--at-port <name> .* \(choices: "usbat", "usbmodem", "uart1"\)/);
  expect(top.out).toMatch(/^ {2}\$ ussl-bridge get --receive transparent https:\/\/myssl\.com\//m);
  expect(top.out).toMatch(/--port \/dev\/ttyUSB2 --data-urc-port usbmodem get --receive transparent/);
});

test('the README\'s CLI examples with --receive run as shown on the virtual module', async () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const lines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'))
    .filter((l) => l.startsWith('node dist/cli/main.js ') && l.includes('--receive') && !l.includes('--port'));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const [command, comment] = line.split(/\s+# /);
    const r = await runCli(command!.trim().split(/\s+/).slice(2));
    expect(r.code, `${line}\n${r.err}`).toBe(0);
    // The comment is the body, with … for what varies (the cipher suite).
    const body = comment!.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('…', '\\S+');
    expect(r.out, line).toMatch(new RegExp(`^${body}\n$`));
  }
});
