/**
 * The command table of a model: the general commands every model has, plus the families its profile lists.
 */
import type { CommandHandler, CommandTable } from '../ModuleCore.js';
import type { ModelProfile } from '../models.js';
import { BASIC_TABLE } from './basic.js';
import { FILE_TABLE } from './files.js';
import { NETWORK_TABLE, PACKET_TABLE } from './network.js';
import { PDP_TABLE } from './pdp.js';
import { SSL_TABLE } from './ssl.js';
import { TCP_TABLE } from './tcp.js';

export { BASIC_COMMANDS } from './basic.js';

/** Builds the table for one model; a command outside it answers `ERROR` as an unknown command does. */
export function commandTable(profile: ModelProfile): CommandTable {
  const table: Record<string, CommandHandler> = {
    ...BASIC_TABLE,
    ...PACKET_TABLE,
    ...(profile.network.nbIot ? {} : NETWORK_TABLE),
    ...(profile.tcp ? { ...PDP_TABLE, ...TCP_TABLE } : {}),
    ...(profile.files ? FILE_TABLE : {}),
    ...(profile.ssl ? SSL_TABLE : {}),
  };
  if (profile.network.nbIot) {
    // An EPS-only NB-IoT module registers with CEREG; CS and GPRS registration queries are ERROR (INFER, see BC25).
    delete table['+CREG'];
    delete table['+CGREG'];
  }
  if (profile.urcPortDefault === undefined) delete table['+QURCCFG'];
  return table;
}
