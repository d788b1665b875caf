/**
 * `ussl-bridge emulate`: a virtual module served on a pty or a TCP port until SIGINT or SIGTERM, optionally printing
 * the AT exchange as it happens. Secrets are redacted the way the library's own trace redacts them
 * (src/protocol/secrets.ts), and payloads and data blocks show as sizes only.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  LATENCY_PROFILE_NAMES, VirtualModule, servePty, serveTcp, type LatencyProfileName, type ModelName, type ModuleServer,
  type ModuleTraceEvent,
} from '../emulator/index.js';
import { REDACTED, redactCommandLine, secretValues } from '../protocol/secrets.js';
import type { GlobalOptions } from './target.js';

/** Options of {@link runEmulate}, as the command line gives them. */
export interface EmulateOptions {
  readonly model: ModelName;
  readonly pty?: string;
  readonly tcp?: number;
  readonly host?: Readonly<Record<string, string>>;
  readonly baud?: number;
  /** A real module's delays (prompt, SEND OK, open, PDP, DNS): `bg96`. */
  readonly latency?: LatencyProfileName;
  readonly trace?: boolean;
}

/**
 * `emulate`: the global `--model`, `--host`, `--baud` and `--trace` describe the module served. Its trace goes to
 * stdout: it is what this command shows, from the module's side.
 */
export function registerEmulate(program: Command): void {
  program.command('emulate')
    .description('serve a virtual module on a pseudo-terminal (needs socat) or a TCP port, until interrupted')
    .addOption(new Option('--pty <link>', 'path of the pty link to create').conflicts('tcp'))
    .addOption(new Option('--tcp <port>', 'TCP port on 127.0.0.1 (socket://), 0 for any free one').argParser((v: string) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65_535) throw new InvalidArgumentError('expected a TCP port, 0-65535');
      return n;
    }))
    .addOption(new Option('--latency <profile>', 'add a real module\'s delays (prompt, SEND OK, open, PDP, DNS)').choices(LATENCY_PROFILE_NAMES))
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge emulate --model BG96 --tcp 7000 --trace\n  $ ussl-bridge emulate --pty ./ttyV0 --host myssl.com=127.0.0.1:8443\n')
    .action(async (_opts: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<GlobalOptions & { pty?: string; tcp?: number; latency?: LatencyProfileName }>();
      // USSL_PORT in the environment names the module other commands use; only a --port given here is a mistake.
      if (cmd.getOptionValueSourceWithGlobals('port') === 'cli') cmd.error('error: emulate serves a virtual module; --port does not apply', { exitCode: 2 });
      if (o.pty === undefined && o.tcp === undefined) cmd.error('error: give --pty LINK or --tcp PORT', { exitCode: 2 });
      process.exitCode = await runEmulate({
        model: o.model, ...(o.pty !== undefined ? { pty: o.pty } : {}), ...(o.tcp !== undefined ? { tcp: o.tcp } : {}),
        ...(o.host ? { host: o.host } : {}), ...(o.baud !== undefined ? { baud: o.baud } : {}),
        ...(o.latency !== undefined ? { latency: o.latency } : {}), trace: o.trace === true,
      });
    });
}

/** Formats trace events; remembers secret values seen in command lines so that their echoes are hidden too. */
export function traceFormatter(t0: number): (e: ModuleTraceEvent) => string {
  const secrets = new Set<string>();
  return (e) => {
    const ms = `${(e.at - t0).toFixed(1).padStart(9)} ms`;
    const arrow = e.from === 'host' ? '→' : '←';
    if (e.kind !== 'line') return `${ms} ${arrow} [${e.length} bytes]`;
    let text = e.text ?? '';
    if (e.from === 'host') {
      for (const s of secretValues(text)) secrets.add(s);
      text = redactCommandLine(text);
    } else {
      for (const s of secrets) text = text.split(s).join(REDACTED);
    }
    return `${ms} ${arrow} ${text}`;
  };
}

/** Serves until a signal (exit code 0) or until the server stops by itself (exit code 1, with the reason). */
export async function runEmulate(opts: EmulateOptions): Promise<number> {
  const module = new VirtualModule({
    model: opts.model, hosts: { ...opts.host }, ...(opts.baud ? { baud: opts.baud } : {}), ...(opts.latency ? { latency: opts.latency } : {}),
  });
  if (opts.trace) {
    const format = traceFormatter(performance.now());
    module.on('trace', (e) => console.log(format(e)));
  }
  let served: ModuleServer;
  try {
    served = opts.pty !== undefined ? await servePty(module, opts.pty) : await serveTcp(module, opts.tcp!);
  } catch (e) {
    module.dispose();
    throw e;
  }
  console.log(`virtual ${opts.model} on ${served.url}; Ctrl-C stops it`);
  const outcome = await new Promise<{ signal: true } | { reason: string }>((resolve) => {
    const onSignal = () => resolve({ signal: true });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void served.ended.then((reason) => resolve({ reason }));
  });
  // Stopping never waits on a client: whatever is still open is destroyed, and a second late stops the process.
  setTimeout(() => process.exit('reason' in outcome ? 1 : 0), 800).unref();
  await served.close();
  module.dispose();
  if ('reason' in outcome) {
    console.error(`ussl-bridge emulate: stopped: ${outcome.reason}`);
    return 1;
  }
  return 0;
}
