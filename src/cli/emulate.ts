/**
 * `ussl-bridge emulate`: a virtual module served on a pty or a TCP port until SIGINT or SIGTERM, optionally printing
 * the AT exchange as it happens. Secrets are redacted the way the library's own trace redacts them
 * (src/protocol/secrets.ts), and payloads and data blocks show as sizes only.
 */
import {
  VirtualModule, servePty, serveTcp, type LatencyProfileName, type ModelName, type ModuleServer, type ModuleTraceEvent,
} from '../emulator/index.js';
import { REDACTED, redactCommandLine, secretValues } from '../protocol/secrets.js';

/** Options of {@link runEmulate}, as the command line gives them. */
export interface EmulateOptions {
  readonly model: ModelName;
  readonly pty?: string;
  readonly tcp?: number;
  readonly host?: Record<string, string>;
  readonly baud?: number;
  readonly latency?: LatencyProfileName;
  readonly trace?: boolean;
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
    model: opts.model, hosts: opts.host ?? {}, ...(opts.baud ? { baud: opts.baud } : {}), ...(opts.latency ? { latency: opts.latency } : {}),
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
