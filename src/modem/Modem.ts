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
import { connectionMachine, type LossCause } from './connection/connectionMachine.js';
import type { ModemOptions, ModuleInfo, UrcPort } from './ModemOptions.js';
import { ConnectionService } from './services/ConnectionService.js';
import { DnsService } from './services/DnsService.js';
import { FileService } from './services/FileService.js';
import type { ServiceHost } from './services/ServiceHost.js';
import { SslContextService } from './services/SslContextService.js';
import { checkSendRetryPolicy } from './services/SendRetry.js';

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
  /** The module restarted, the port was lost or the PDP context dropped: sockets are gone. */
  socketsLost: [why: LossCause];
  /** Every URC of the current port, across reconnects; with its bytes for direct-push data. */
  urc: [line: string, data: Uint8Array | undefined];
}

type ConnectionActor = Actor<typeof connectionMachine>;

function factoryFor(target: ModemTarget, options: ModemOptions, pushedLength: (line: string) => number | undefined): () => Promise<AtClient> {
  let open: () => Promise<Transport>;
  if (typeof target === 'string') open = () => openTransport(target, options.at ?? {});
  else if (typeof target === 'function') open = target;
  else open = () => SerialPortTransport.open({ path: target.portPath, binding: target.createBinding() });
  // Direct-push data is counted only for connections opened in push mode (the services know which).
  const own = options.at?.urcDataLength;
  return async () => AtClient.open(await open(), { ...options.at, urcDataLength: (line) => pushedLength(line) ?? own?.(line) });
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
  for (const what of ['urcPort', 'atPort', 'dataModeUrcPort'] as const) {
    const port: unknown = options[what];
    if (port !== undefined && port !== 'usbat' && port !== 'usbmodem' && port !== 'uart1') throw bad(what, port);
  }
  if (options.atPort !== undefined && options.dataModeUrcPort === options.atPort) {
    throw bad('dataModeUrcPort (it is this port, atPort)', options.dataModeUrcPort);
  }
  checkSendRetryPolicy(options.connections?.sendRetry);
}

const stateName = (value: SnapshotFrom<typeof connectionMachine>['value']): string =>
  typeof value === 'string' ? value : Object.entries(value).map(([k, v]) => `${k}.${String(v)}`).join(',');

export class Modem extends EventEmitter<ModemEvents> implements ServiceHost {
  private readonly actor: ConnectionActor;
  private readonly restoreHooks: Array<(at: AtClient, signal: AbortSignal) => Promise<void>> = [];
  private lastState = '';
  /** Whether the machine is in connected.ready, as of its last snapshot (`send`'s fast path). */
  private ready = false;
  private lastClient: AtClient | undefined;
  private readonly forwardUrc = (line: string, data: Uint8Array | undefined) => this.emit('urc', line, data);

  /** The module's file system: list, upload (checked), download, delete, free space. */
  readonly files: FileService;
  /** Name resolution by the module, and its DNS servers. */
  readonly dns: DnsService;
  /** Client connections (TCP and TLS) on ids 0–11. */
  readonly connections: ConnectionService;
  /** The six SSL contexts, configured once per set of settings. */
  readonly sslContexts: SslContextService;

  protected constructor(target: ModemTarget, readonly options: ModemOptions) {
    super();
    this.setMaxListeners(0); // one URC listener per pending DNS query and service; none is a leak
    this.files = new FileService(this);
    this.dns = new DnsService(this);
    this.connections = new ConnectionService(this, options.connections);
    this.sslContexts = new SslContextService(this);
    this.actor = createActor(connectionMachine, {
      input: {
        options,
        openClient: factoryFor(target, options, (line) => this.connections.pushedLength(line)),
        restore: async (at, signal) => {
          for (const hook of this.restoreHooks) {
            if (signal.aborted) return;
            await hook(at, signal);
          }
        },
        onSocketsLost: (why) => this.emit('socketsLost', why),
      },
    });
    this.actor.subscribe({
      next: (snap) => {
        const client = snap.context.client;
        if (client !== this.lastClient) {
          this.lastClient?.engine.off('urc', this.forwardUrc);
          client?.engine.on('urc', this.forwardUrc);
          this.lastClient = client;
        }
        this.ready = snap.matches({ connected: 'ready' });
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
    return Modem.started(new Modem(target, options));
  }

  /** Starts a modem made by `open` (here or in a subclass); closes it again if it does not come up. */
  protected static async started<M extends Modem>(modem: M): Promise<M> {
    try {
      await modem.start();
    } catch (e) {
      await modem.close();
      throw e;
    }
    return modem;
  }

  /** Checks what of the options ends up inside an AT command; for subclasses' `open`. */
  protected static validate(options: ModemOptions): void {
    validateOptions(options);
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

  /** The current state as a dotted path, e.g. `connected.ready`; `closed` once {@link close} was called. */
  get state(): string {
    if (this.closed) return 'closed';
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

  /**
   * Sends one command on the current port. While the module is being brought back (after a restart or a lost PDP
   * context) the command waits until it is ready again, so it never runs between the machine's own steps. While the
   * port itself is gone (`reconnecting`, and `opening` it again: unplugged, the server down) it fails at once: nobody
   * knows when the port comes back, and a caller that wants to wait calls `whenReady()`.
   * @throws QuectelError `MODEM_CLOSED` after `close()`; `MODEM_NO_PORT` while reconnecting; the engine's codes; the
   *   machine's failure if the module does not come back.
   */
  async send(command: string, options?: SendOptions): Promise<AtReply> {
    if (this.closed) throw new QuectelError('MODEM_CLOSED', 'the modem was closed; nothing was sent');
    if (this.ready && this.lastClient) return this.lastClient.send(command, options);
    const snap = this.actor.getSnapshot();
    // Gone, or being opened again after it went (a network port's reopen can take its whole connect timeout).
    if (snap.matches('reconnecting') || (snap.matches('opening') && snap.context.reconnects > 0)) {
      throw new QuectelError('MODEM_NO_PORT', "the module's port is gone and the modem is reconnecting; nothing was sent (await modem.whenReady() to wait for the port)");
    }
    if (!snap.matches({ connected: 'ready' })) await this.whenReady(options?.timeoutMs ?? 120_000);
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

  /**
   * Waits until the machine is `ready` again (after a restart or reconnect).
   * @throws QuectelError the machine's failure when it gave up; `MODEM_CLOSED` after `close()`; `MODEM_NO_ANSWER`
   *   when it is not ready within `timeoutMs` (Default: 60000).
   */
  async whenReady(timeoutMs = 60_000): Promise<void> {
    if (this.closed) throw new QuectelError('MODEM_CLOSED', 'the modem was closed');
    let snap;
    try {
      snap = await waitFor(this.actor, (s) => s.matches({ connected: 'ready' }) || s.status !== 'active', { timeout: timeoutMs });
    } catch (e) {
      // waitFor also rejects when the machine stops: that is close(), not a module that took too long.
      if (this.closed) throw new QuectelError('MODEM_CLOSED', 'the modem was closed', {}, { cause: e });
      throw new QuectelError('MODEM_NO_ANSWER', `the module was not ready within ${timeoutMs} ms (${this.state})`, {}, { cause: e });
    }
    if (this.closed) throw new QuectelError('MODEM_CLOSED', 'the modem was closed');
    if (snap.status !== 'active') throw snap.context.failure ?? new QuectelError('MODEM_NO_ANSWER', 'the module failed');
  }

  private closed = false;

  /** Stops the machine and closes the port; open connections fail (`SOCKET_LOST`); nothing keeps running afterwards. */
  async close(): Promise<void> {
    const client = this.actor.getSnapshot().context.client;
    // A port left in transparent data mode keeps the module there after the host is gone, deaf to commands: leave
    // it first (a guarded +++, then the close), within a bound.
    const transparent = this.connections.all.filter((c) => c.receive === 'transparent' && c.state === 'open');
    if (transparent.length > 0 && client && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => (timer = setTimeout(r, 3 * (this.options.at?.guardTimeMs ?? 1000) + 8000)));
      const leave = Promise.all(transparent.map((c) => c.close('abort').catch(() => undefined))).then(() => this.connections.settled());
      await Promise.race([leave, bound]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.actor.stop();
    for (const c of this.connections.all) c.lost('the modem was closed', true);
    this.dns.abandon(new QuectelError('MODEM_CLOSED', 'the modem was closed before the name was resolved'));
    await client?.close().catch(() => {});
    this.removeAllListeners();
  }
}
