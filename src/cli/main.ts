#!/usr/bin/env node
/**
 * The `ussl-bridge` command line: `demo` (the virtual module doing real TLS), `emulate` (a virtual module served on a
 * pty or TCP port) and `ciphers` (the cipher suite table).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LATENCY_PROFILE_NAMES, MODEL_NAMES, type LatencyProfileName, type ModelName } from '../emulator/index.js';
import { CIPHER_SUITES, formatCipherCode } from '../protocol/cipherSuites.js';
import { runDemo } from './demo.js';
import { runEmulate } from './emulate.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('ussl-bridge').description('QuecPython ussl over a Quectel module\'s SSL AT commands')
  .version(version);

function parseHost(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([A-Za-z0-9.-]+)=([0-9.]+(?::\d+)?)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected NAME=IP or NAME=IP:PORT');
  return { ...previous, [m[1]!]: m[2]! };
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const modelOption = () => new Option('-m, --model <model>', 'module model').choices(MODEL_NAMES);

program.command('demo')
  .version(version)
  .description('run the virtual module through a real TLS exchange on loopback')
  .addOption(modelOption().default('EC25'))
  .action(async (opts: { model: ModelName }) => {
    await runDemo({ model: opts.model });
  });

program.command('emulate')
  .description('serve a virtual module on a pseudo-terminal (needs socat) or a TCP port, until interrupted')
  .addOption(modelOption().default('EC25'))
  .addOption(new Option('--pty <link>', 'path of the pty link to create').conflicts('tcp'))
  .addOption(new Option('--tcp <port>', 'TCP port on 127.0.0.1 (socket://)').argParser(parseInteger))
  .option('--host <name=ip[:port]>', 'resolve a name to a local address (repeatable)', parseHost)
  .option('--baud <rate>', 'pace bytes at a UART speed', parseInteger)
  .addOption(new Option('--latency <profile>', 'add a real module\'s delays (prompt, SEND OK, open, PDP, DNS)').choices(LATENCY_PROFILE_NAMES))
  .option('--trace', 'print the AT exchange as it happens (secrets redacted, payloads as sizes)')
  .version(version)
  .action(async (opts: {
    model: ModelName; pty?: string; tcp?: number; host?: Record<string, string>; baud?: number; latency?: LatencyProfileName; trace?: boolean;
  }) => {
    if (opts.pty === undefined && opts.tcp === undefined) throw new InvalidArgumentError('give --pty LINK or --tcp PORT');
    process.exitCode = await runEmulate(opts);
  });

program.command('ciphers')
  .version(version)
  .description('list the cipher suites of QuecPython\'s ussl table with their codes and OpenSSL names')
  .action(() => {
    for (const s of CIPHER_SUITES) {
      console.log(`${formatCipherCode(s.code)}  ${s.name.padEnd(44)} ${(s.openssl ?? '(not in this OpenSSL)').padEnd(32)}` +
        `${s.inBg96List ? ' BG96' : ''}`);
    }
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`ussl-bridge: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
