/**
 * A module opened for looking, not for using: the port, `AT` until it answers, and identification, with the
 * connection machine's own steps (sync, identify), but no SIM, registration or PDP bring-up. `info` and `ciphers`
 * use it, so they report on a module whose SIM is missing or that is not registered instead of failing on it.
 */
import { AtClient } from '../at/AtClient.js';
import { isQuectelError } from '../errors.js';
import { identify, sync } from '../modem/connection/connectionSteps.js';
import type { ModuleInfo } from '../modem/ModemOptions.js';
import { FileService } from '../modem/services/FileService.js';
import type { ServiceHost } from '../modem/services/ServiceHost.js';
import { resolveTarget, type GlobalOptions, type Target } from './target.js';

/** An identified module on a raw AT client. */
export interface Probe {
  readonly at: AtClient;
  readonly info: ModuleInfo;
  readonly target: Target;
  /** The file service over this client (listing, space). */
  readonly files: FileService;
}

/** The services need a host; a probe has no machine behind it, so restarts and restore hooks are moot here. */
function hostOf(at: AtClient, info: ModuleInfo): ServiceHost {
  const host: ServiceHost = {
    send: (command, options) => at.send(command, options),
    info,
    options: {},
    on: () => host,
    off: () => host,
    onRestore: () => () => {},
  };
  return host;
}

/** Opens, syncs and identifies the module, runs `work`, and closes everything whatever happened. */
export async function withProbe<T>(g: GlobalOptions, work: (probe: Probe) => Promise<T>): Promise<T> {
  const target = await resolveTarget(g);
  try {
    const at = await AtClient.open(target.url, target.at);
    try {
      const step = { at, options: {}, signal: new AbortController().signal };
      await sync(step);
      const info = await identify(step);
      return await work({ at, info, target, files: new FileService(hostOf(at, info)) });
    } finally {
      await at.close();
    }
  } finally {
    await target.close();
  }
}

/**
 * Sends a query and returns its information lines, or the reason it failed (`ERROR`, `+CME ERROR: 10`): a
 * diagnostic shows what it could not learn rather than stopping there.
 */
export async function ask(at: AtClient, command: string): Promise<{ readonly lines: readonly string[] } | { readonly error: string }> {
  try {
    return { lines: (await at.send(command)).lines };
  } catch (e) {
    // The module said no: that is the answer. A port that went away is not, and ends the command.
    if (isQuectelError(e, 'AT_ERROR') || isQuectelError(e, 'AT_CME_ERROR') || isQuectelError(e, 'AT_TIMEOUT')) return { error: e.message };
    throw e;
  }
}
