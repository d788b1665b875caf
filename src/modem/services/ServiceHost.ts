/**
 * What the module services need of the {@link Modem} that hosts them: sending commands on whatever port is current,
 * the URCs of that port, what identification found, and the restart and restore hooks. Services depend on this
 * type only, so each can be tested on a small stand-in.
 */
import type { AtClient, SendOptions } from '../../at/AtClient.js';
import type { AtReply } from '../../at/AtCommand.js';
import type { LossCause } from '../connection/connectionMachine.js';
import type { ModemOptions, ModuleInfo } from '../ModemOptions.js';

export interface ServiceHost {
  send(command: string, options?: SendOptions): Promise<AtReply>;
  readonly info: ModuleInfo;
  readonly options: ModemOptions;
  /** Every URC of the current port (the modem follows reconnects). Handlers only signal. */
  on(event: 'urc', listener: (line: string, data: Uint8Array | undefined) => void): unknown;
  off(event: 'urc', listener: (line: string, data: Uint8Array | undefined) => void): unknown;
  /** The module restarted, the port was lost, or the PDP context dropped: every connection is gone. */
  on(event: 'socketsLost', listener: (why: LossCause) => void): unknown;
  /** Runs after a restart or reconnect, before the modem is ready again. */
  onRestore(hook: (at: AtClient, signal: AbortSignal) => Promise<void>): () => void;
}
