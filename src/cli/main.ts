#!/usr/bin/env node
/**
 * The `ussl-bridge` command line. One command per file beside this one; this file holds the program, its global
 * options (read by each command with `optsWithGlobals()`), the help text and the one place errors become exit codes
 * (exitCodes.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MODEL_NAMES } from '../emulator/index.js';
import { registerAt } from './at.js';
import { registerCiphers } from './ciphers.js';
import { registerDemo } from './demo.js';
import { registerEmulate } from './emulate.js';
import { describeError, EXIT, EXIT_CODES_HELP, exitCodeFor } from './exitCodes.js';
import { registerFiles } from './files.js';
import { registerGet } from './get.js';
import { registerInfo } from './info.js';
import { AT_PORTS } from './target.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `NAME=IP` or `NAME=IP:PORT`, repeatable: collected into a hosts table. */
export function parseHost(value: string, previous: Readonly<Record<string, string>> = {}): Record<string, string> {
  const m = /^([A-Za-z0-9.-]+)=(\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected NAME=IP or NAME=IP:PORT, e.g. api.test=127.0.0.1:8443');
  return { ...previous, [m[1]!]: m[2]! };
}

/** A positive whole number (a baud rate, a TCP port). */
export function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const HELP_AFTER = `
Without --port, commands run on a virtual module (--model, default EC25) inside this process. It does real TLS
over loopback: its hosts table points myssl.com at a local HTTPS server and mtls.myssl.com at one that requires a
client certificate (started by demo, get and at), so \`ussl-bridge get https://myssl.com/\` works out of the box.
--host NAME=IP[:PORT] adds names; other names go to the system resolver.

get and demo take --receive buffer|push|transparent, the module's access mode. Transparent mode holds the port
alone, so on a port --data-urc-port names the AT interface URCs go to meanwhile (or --at-port says URCs go elsewhere
already); the virtual module's wiring is known and needs neither.

Examples:
  $ ussl-bridge demo                                   # the seed's two examples on a virtual EC25
  $ ussl-bridge demo --model BC25                      # a model without SSL: says so, exit 4
  $ ussl-bridge info --json                            # identity, SIM, network, PDP, SSL, files
  $ ussl-bridge ciphers --model BG96                   # suites the firmware lists, and the local OpenSSL's
  $ ussl-bridge get https://myssl.com/                 # an HTTPS GET through the module
  $ ussl-bridge get --receive transparent https://myssl.com/   # the line is the connection (access mode 2)
  $ ussl-bridge --port /dev/ttyUSB2 --apn internet get --ca ca.pem -o page.html https://example.com/
  $ ussl-bridge --port /dev/ttyUSB2 --data-urc-port usbmodem get --receive transparent -o fw.bin https://example.com/fw.bin
  $ ussl-bridge --port socket://127.0.0.1:7000 files put ca.pem
  $ ussl-bridge --port /dev/ttyUSB2?baud=115200 at     # an AT terminal with history
  $ ussl-bridge emulate --tcp 7000                     # serve a virtual module to other programs

Exit codes:
${EXIT_CODES_HELP.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join('\n')}
`;

const program = new Command('ussl-bridge')
  .description('QuecPython\'s ussl/usocket over a Quectel module\'s SSL AT commands, and the tools around it')
  .version(version, '-V, --version')
  .addOption(new Option('-p, --port <url>', 'the module: a device (/dev/ttyUSB2?baud=115200, COM5), socket://host:port or emulator:MODEL')
    .env('USSL_PORT'))
  .option('-b, --baud <rate>', 'line speed of a serial port (paces a virtual module)', parseInteger)
  .option('--apn <name>', 'access point name to set before PDP activation')
  .addOption(new Option('-m, --model <model>', 'model of the virtual module used without --port').choices(MODEL_NAMES).default('EC25'))
  .option('--host <name=ip[:port]>', 'a name the virtual module resolves (repeatable)', parseHost)
  .addOption(new Option('--data-urc-port <name>', 'another AT interface URCs go to while transparent mode (--receive transparent) holds --port')
    .choices(AT_PORTS))
  .addOption(new Option('--at-port <name>', 'which AT interface --port is, when URCs go to another one already').choices(AT_PORTS))
  .option('--trace', 'print the AT exchange to stderr (secrets redacted, payloads as sizes)')
  .option('--json', 'print one JSON document (JSON lines for at) on stdout, and nothing else there')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', HELP_AFTER);

// Ctrl-C ends a command with 130; `emulate` and `at` handle it themselves (a clean stop, an aborted command).
program.hook('preAction', (_program, action) => {
  const top = action.parent === program ? action.name() : action.parent?.name();
  if (top !== 'emulate' && top !== 'at') process.once('SIGINT', () => process.exit(EXIT.INTERRUPTED));
});

// A reader that stops early (`| head`) is not an error: the output it wanted has gone out.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.OK);
  throw e;
});

registerDemo(program);
registerInfo(program);
registerCiphers(program);
registerFiles(program);
registerGet(program);
registerAt(program);
registerEmulate(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander printed the message (or the help, or the version) already.
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    const code = exitCodeFor(e);
    const { message, code: errorCode } = describeError(e);
    if (program.opts<{ json?: boolean }>().json) {
      process.stderr.write(`${JSON.stringify({ error: { message, code: errorCode, exit: code } })}\n`);
    } else {
      process.stderr.write(`ussl-bridge: ${message}${errorCode ? ` [${errorCode}]` : ''}\n`);
    }
    process.exitCode = code;
  }
}
