/**
 * The command line's contract with people and scripts: `--help` with examples and the exit codes, `--version`, and
 * every kind of bad argument refused with exit code 2 and a message that says what was wrong, before any module is
 * opened.
 */
import { expect, test } from 'vitest';
import { EXIT_CODES_HELP } from '../../src/cli/exitCodes.js';
import { runCli } from '../helpers/cliProcess.js';

test('--help lists the commands, the global options, the virtual module, examples and every exit code', async () => {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  for (const c of ['demo', 'info', 'ciphers', 'files', 'get', 'at', 'emulate']) expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  for (const o of ['--port <url>', '--baud <rate>', '--apn <name>', '--trace', '--json', '--version', '--model <model>', '--host', '--data-urc-port <name>', '--at-port <name>']) expect(r.out).toContain(o);
  expect(r.out).toContain('get https://myssl.com/` works out of the box');
  expect(r.out).toContain('$ ussl-bridge demo');
  for (const [code, text] of EXIT_CODES_HELP) expect(r.out).toContain(`${String(code).padStart(3)}  ${text}`);
  const sub = await runCli(['get', '--help']);
  expect(sub.code).toBe(0);
  expect(sub.out).toMatch(/--ca <file>[\s\S]*--cert <file>[\s\S]*--key <file>[\s\S]*--cipher <name>[\s\S]*--tls <version>[\s\S]*--output <file>[\s\S]*--receive <mode>/);
  expect(sub.out).toContain('Examples:');
});

test('--version prints the package version, also after a command', async () => {
  const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
  for (const args of [['--version'], ['demo', '--version'], ['files', 'ls', '-V']]) {
    const r = await runCli(args);
    expect([r.code, r.out]).toEqual([0, `${version}\n`]);
  }
});

test.each([
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['info', '--frob'], /unknown option '--frob'/],
  [['--model', 'XX1', 'info'], /Allowed choices are BG96, BG95, EC25/],
  [['--baud', 'fast', 'info'], /option '-b, --baud <rate>' argument 'fast' is invalid\. expected a whole number/],
  [['--host', 'myssl.com', 'info'], /expected NAME=IP or NAME=IP:PORT/],
  [['get'], /missing required argument 'url'/],
  [['get', '--tls', '1.4', 'https://myssl.com/'], /Allowed choices are 1\.0, 1\.1, 1\.2, 1\.3/],
  [['get', '-H', 'no colon', 'https://myssl.com/'], /-H wants "Name: value"/],
  [['get', 'not a url'], /not a URL/],
  [['get', '--cert', 'a.pem', 'https://myssl.com/'], /--cert and --key go together/],
  [['get', '--receive', 'fast', 'https://myssl.com/'], /argument 'fast' is invalid\. Allowed choices are buffer, push, transparent/],
  [['demo', '--receive', '2'], /argument '2' is invalid\. Allowed choices are buffer, push, transparent/],
  [['--data-urc-port', 'usb', 'get', 'https://myssl.com/'], /argument 'usb' is invalid\. Allowed choices are usbat, usbmodem, uart1/],
  // A port that does not exist: a usage error (2), not a module one (3), because the port is not even opened.
  [['--port', '/dev/ttyUSSL_NONE', 'get', '--receive', 'transparent', 'https://example.com/'], /--receive transparent on a port needs --data-urc-port NAME/],
  [['--port', '/dev/ttyUSSL_NONE', 'demo', '--url', 'https://example.com/', '--receive', 'transparent'], /--receive transparent on a port needs --data-urc-port NAME/],
  [['--port', '/dev/ttyUSSL_NONE', '--at-port', 'uart1', '--data-urc-port', 'uart1', 'get', 'https://example.com/'], /--data-urc-port uart1 is this port \(--at-port\)/],
  [['--data-urc-port', 'usbat', 'get', '--receive', 'transparent', 'https://myssl.com/'], /--data-urc-port usbat is this port \(the virtual EC25's AT port\)/],
  [['files', 'put'], /missing required argument 'local'/],
  [['files', 'mv', 'a', 'b'], /unknown command 'mv'/],
  [['at', 'extra'], /too many arguments/],
  [['emulate'], /give --pty LINK or --tcp PORT/],
  [['emulate', '--tcp', '99999'], /expected a TCP port/],
  [['--port', 'socket://127.0.0.1:7000', 'emulate', '--tcp', '0'], /--port does not apply/],
  [['--port', 'nosuchscheme:thing', 'info'], /TRANSPORT_UNKNOWN_SCHEME/],
])('%j is a usage error: exit 2, a clear message, nothing on stdout', async (args, message) => {
  const r = await runCli(args);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.out).toBe('');
});
