/**
 * `Modem`: a module brought up and kept up by the connection machine. It opens the port, syncs, identifies the
 * module, checks SIM, registration and PDP, and recovers from restarts and vanished ports on its own.
 *
 * ```ts
 * const modem = await Modem.open('/dev/ttyUSB2', { apn: { apn: 'internet' } });
 * console.log(modem.info.model, modem.state); // 'EC25', 'connected.ready'
 * await modem.close();
 * ```
 */
import { EventEmitter } from 'node:events';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { createActor, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import { AtClient } from '../at/AtClient.js';
import type { AtReply } from '../at/AtCommand.js';
import type { SendOptions } from '../at/AtClient.js';
import { QuectelError } from '../errors.js';
import { openTransport } from '../transport/openTransport.js';
import { SerialPortTransport } from '../transport/SerialPortTransport.js';
import type { Transport, TransportFactory } from '../transport/Transport.js';
import { atText } from './atText.js';
import { connectionMachine } from './connection/connectionMachine.js';
import type { ModemOptions, ModuleInfo, UrcPort } from './ModemOptions.js';

/** Anything that brings its own serialport binding, such as a virtual module. */
export interface SerialBindingSource {
  readonly portPath: string;
  createBinding(): BindingInterface;
}

/** A URL, a transport factory, or a binding source (a `VirtualModule`). */
export type ModemTarget = string | TransportFactory | SerialBindingSource;

export interface ModemEvents {
  /** Every state change, as a dotted path: `connected.registration`, `reconnecting`, `failed`. */
  state: [state: string];
  /** The module restarted or the port was lost: sockets are gone. */
  socketsLost: [];
}

type ConnectionActor = Actor<typeof connectionMachine>;

function factoryFor(target: ModemTarget, options: ModemOptions): () => Promise<AtClient> {
  let open: () => Promise<Transport>;
  if (typeof target === 'string') open = () => openTransport(target, options.at ?? {});
  else if (typeof target === 'function') open = target;
  else open = () => SerialPortTransport.open({ path: target.portPath, binding: target.createBinding() });
  return async () => AtClient.open(await open(), options.at ?? {});
}

/** Everything of the options that ends up inside an AT command is checked before anything is sent. */
function validateOptions(options: ModemOptions): void {
  const bad = (what: string, value: unknown) =>
    new QuectelError('INVALID_ARGUMENT', `${what} is invalid: ${JSON.stringify(value)}`, { what });
  if (options.apn) {
    atText(options.apn.apn, 'APN', 100);
    atText(options.apn.user ?? '', 'APN user', 127);
    atText(options.apn.password ?? '', 'APN password', 127);
    const auth: unknown = options.apn.auth ?? 0;
    if (auth !== 0 && auth !== 1 && auth !== 2 && auth !== 3) throw bad('APN auth', auth);
  }
  const ctx: unknown = options.pdpContext ?? 1;
  if (typeof ctx !== 'number' || !Number.isInteger(ctx) || ctx < 1 || ctx > 16) throw bad('pdpContext', ctx);
  const port: unknown = options.urcPort;
  if (port !== undefined && port !== 'usbat' && port !== 'usbmodem' && port !== 'uart1') throw bad('urcPort', port);
}

const stateName = (value: SnapshotFrom<typeof connectionMachine>['value']): string =>
  typeof value === 'string' ? value : Object.entries(value).map(([k, v]) => `${k}.${String(v)}`).join(',');

export class Modem extends EventEmitter<ModemEvents> {
  private readonly actor: ConnectionActor;
  private readonly restoreHooks: Array<(at: AtClient, signal: AbortSignal) => Promise<void>> = [];
  private lastState = '';

  private constructor(target: ModemTarget, readonly options: ModemOptions) {
    super();
    this.actor = createActor(connectionMachine, {
      input: {
        options,
        openClient: factoryFor(target, options),
        restore: async (at, signal) => {
          for (const hook of this.restoreHooks) {
            if (signal.aborted) return;
            await hook(at, signal);
          }
        },
        onSocketsLost: () => this.emit('socketsLost'),
      },
    });
    this.actor.subscribe({
      next: (snap) => {
        const name = stateName(snap.value);
        if (name !== this.lastState) {
          this.lastState = name;
          this.emit('state', name);
        }
      },
      error: () => {},
    });
  }

  /**
   * Opens the module and resolves once it is ready (registered, PDP active).
   * @throws QuectelError the transport's code for a missing or busy port (`TRANSPORT_NOT_FOUND`…), or
   *   `MODEM_NO_ANSWER`, `MODEM_SIM_MISSING`, `MODEM_SIM_PIN`, `MODEM_NOT_REGISTERED`, `MODEM_REGISTRATION_DENIED`,
   *   `MODEM_PDP_FAILED`, `MODEM_RESETTING`, `MODEM_PORT_LOST`, `MODEM_URC_PORT`; `INVALID_ARGUMENT` for an APN
   *   or credentials that cannot go into an AT command.
   */
  static async open(target: ModemTarget, options: ModemOptions = {}): Promise<Modem> {
    validateOptions(options);
    const modem = new Modem(target, options);
    try {
      await modem.start();
    } catch (e) {
      await modem.close();
      throw e;
    }
    return modem;
  }

  private start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sub = this.actor.subscribe((snap) => {
        if (snap.matches({ connected: 'ready' })) {
          sub.unsubscribe();
          resolve();
        } else if (snap.status === 'done') {
          sub.unsubscribe();
          reject(snap.context.failure ?? new QuectelError('MODEM_NO_ANSWER', 'the module did not come up'));
        }
      });
      this.actor.start();
    });
  }

  /** The current state as a dotted path, e.g. `connected.ready`. */
  get state(): string {
    return stateName(this.actor.getSnapshot().value);
  }

  /** What identification found. */
  get info(): ModuleInfo {
    const info = this.actor.getSnapshot().context.info;
    if (!info) throw new QuectelError('MODEM_CLOSED', 'the module has not been identified');
    return info;
  }

  /** Where URCs go, as the module reported it (`undefined` where it has no `AT+QURCCFG`). */
  get urcPort(): UrcPort | undefined {
    return this.actor.getSnapshot().context.urcPort;
  }

  /** The PDP address. */
  get ip(): string | undefined {
    return this.actor.getSnapshot().context.ip;
  }

  /** The AT client of the current port (a new one after each reconnect). */
  get at(): AtClient {
    const client = this.actor.getSnapshot().context.client;
    if (!client) throw new QuectelError('MODEM_CLOSED', 'the port is not open');
    return client;
  }

  /** Sends one command on the current port. */
  send(command: string, options?: SendOptions): Promise<AtReply> {
    return this.at.send(command, options);
  }

  /**
   * Registers what must be re-applied after a restart or reconnect (SSL contexts in use); hooks run in order and
   * should pass `signal` to their commands, which aborts when the machine gives the step up.
   */
  onRestore(hook: (at: AtClient, signal: AbortSignal) => Promise<void>): () => void {
    this.restoreHooks.push(hook);
    return () => {
      const i = this.restoreHooks.indexOf(hook);
      if (i >= 0) this.restoreHooks.splice(i, 1);
    };
  }

  /** Waits until the machine is `ready` again (after a restart or reconnect), or rejects when it failed. */
  async whenReady(timeoutMs = 60_000): Promise<void> {
    const snap = await waitFor(this.actor, (s) => s.matches({ connected: 'ready' }) || s.status === 'done', { timeout: timeoutMs });
    if (snap.status === 'done') throw snap.context.failure ?? new QuectelError('MODEM_NO_ANSWER', 'the module failed');
  }

  /** Stops the machine and closes the port; nothing keeps running afterwards. */
  async close(): Promise<void> {
    const client = this.actor.getSnapshot().context.client;
    this.actor.stop();
    await client?.close().catch(() => {});
    this.removeAllListeners();
  }
}
