/**
 * The module's client connections: one pool of client ids 0–11 shared by TCP (`AT+QIOPEN`) and SSL
 * (`AT+QSSLOPEN`), as the reference advises (§3: whether the firmware shares them is uncertain, so never reuse an
 * id across the two), opens with their late result, and the URCs that drive each connection.
 */
import { isQuectelError, QuectelError } from '../../errors.js';
import { QI_ERRORS } from '../../protocol/errorCodes.js';
import type { UrcPort } from '../ModemOptions.js';
import { Connection, FAMILIES, type ConnectionKind, type ConnectionTuning, type ReceiveMode } from './Connection.js';
import { hostName } from './DnsService.js';
import type { ServiceHost } from './ServiceHost.js';

export const CLIENT_IDS = 12;

/** What to open. */
export interface OpenConnectionOptions {
  readonly kind: ConnectionKind;
  /** The `<serveraddr>`: a name the module resolves, or an address. For TLS it is also the SNI and host check. */
  readonly host: string;
  readonly port: number;
  /** The SSL context to open with (`ssl` only). */
  readonly sslContext?: number;
  /**
   * `buffer` (access mode 0, reads with AT+QSSLRECV), `push` (1: data comes inside the URC) or `transparent` (2: the
   * port is the connection until it closes; needs the port to itself, see {@link ConnectionService.open}). Default:
   * buffer.
   */
  readonly receive?: ReceiveMode;
  /** How long the open may take in all, command and result. Default: 150 s, plus 300 s of TLS negotiation. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class ConnectionService {
  private readonly slots: Array<Connection | undefined> = new Array(CLIENT_IDS).fill(undefined);
  /** Where URCs went before a transparent connection moved them (`dataModeUrcPort`), until they are sent back. */
  private urcPortToRestore: UrcPort | undefined;

  constructor(private readonly host: ServiceHost, private readonly tuning: ConnectionTuning = {}) {
    host.on('urc', (line, data) => this.onUrc(line, data));
    host.on('socketsLost', () => {
      for (const c of this.slots) c?.lost('the module restarted, the port was lost or the PDP context dropped');
      this.previous.clear(); // the module that could still speak of them is gone
    });
    // A port reopened while URCs were moved away: a module that kept that setting sends them back here first.
    host.onRestore(async (at, signal) => {
      const port = this.urcPortToRestore;
      if (port === undefined) return;
      await at.send(`AT+QURCCFG="urcport","${port}"`, { signal }).catch(() => undefined);
      this.urcPortToRestore = undefined;
    });
  }

  /** The connection on a client id, if the library opened one there. */
  get(id: number): Connection | undefined {
    return this.slots[id];
  }

  /** The connections the library has on the module, by id. */
  get all(): readonly Connection[] {
    return this.slots.filter((c): c is Connection => c !== undefined);
  }

  /**
   * For the engine: the count of bytes after a direct-push URC (`+QSSLURC: "recv",<id>,<len>`), only for a
   * connection in push mode now: opened so and not paused for a slow reader (the mode changes at the `OK` of its
   * `AT+QISWTMD`). In buffer mode the same shape is a notification (QICFG "recvind", §5.1).
   */
  pushedLength(line: string): number | undefined {
    const m = /^\+(?:QSSLURC|QIURC): "recv",(\d+),(\d+)$/.exec(line);
    if (!m) return undefined;
    const id = Number(m[1]);
    const before = this.previous.get(id);
    if (before) return before.pushing ? Number(m[2]) : undefined;
    return this.slots[id]?.push ? Number(m[2]) : undefined;
  }

  /**
   * Freed ids whose module-side session may still speak: a module holds URCs back while a command runs and prints
   * them after its result, so pushes, a recv notification or a `"closed"` of the old session can follow the `OK` of
   * the `AT+QSSLCLOSE` that freed the id, even after a new open on it was sent. Until the new open's result
   * (`+QSSLOPEN: <id>,…`, which the module prints after them) they are the old session's: pushed bytes are still
   * counted when it was pushing (not read as lines, where a peer's `RDY` or `+QSSLURC: "closed",<other id>` would pass
   * for the module's) and all of it is dropped, never handed to the new connection.
   */
  private readonly previous = new Map<number, { readonly pushing: boolean }>();

  /** The id is the new connection's from now on; URCs for it reach it once the old session's are behind (above). */
  private claim(id: number, conn: Connection): void {
    this.slots[id] = conn;
  }

  /**
   * Opens a connection and resolves once the module reported it open.
   * @throws QuectelError `INVALID_ARGUMENT`, `NOT_SUPPORTED`, `SOCKET_IDS_EXHAUSTED`, `SOCKET_OPEN_FAILED`
   *   (context.moduleError: 565 DNS, 566 connect or TLS, 569 timeout, 552 parameters or a degraded stack…),
   *   `AT_ABORTED`, the engine's codes.
   */
  async open(o: OpenConnectionOptions): Promise<Connection> {
    hostName(o.host);
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535) {
      throw new QuectelError('INVALID_ARGUMENT', `port must be 1-65535, got ${String(o.port)}`, { what: 'port' });
    }
    const info = this.host.info;
    if (o.kind === 'ssl' && !info.ssl) throw new QuectelError('NOT_SUPPORTED', `SSL is not supported on ${info.model}`);
    if (info.family === 'nb-iot') throw new QuectelError('NOT_SUPPORTED', `TCP/IP sockets are not supported on ${info.model} by this library`);
    const ctx = o.sslContext ?? 0;
    if (o.kind === 'ssl' && (!Number.isInteger(ctx) || ctx < 0 || ctx > 5)) throw new QuectelError('INVALID_ARGUMENT', `SSL context must be 0-5, got ${ctx}`);
    const receive: ReceiveMode = o.receive ?? 'buffer';
    if (receive !== 'buffer' && receive !== 'push' && receive !== 'transparent') {
      throw new QuectelError('INVALID_ARGUMENT', `receive must be 'buffer', 'push' or 'transparent', got ${JSON.stringify(receive)}`);
    }
    if (receive === 'transparent') return this.openTransparent(o, ctx);
    const holder = this.all.find((c) => c.receive === 'transparent');
    if (holder) {
      throw new QuectelError('PORT_IN_USE', `connection ${holder.id} holds the port in transparent mode: no other connection can be opened on it ` +
        'until it is closed', { id: holder.id });
    }
    const id = this.slots.findIndex((s) => s === undefined);
    if (id < 0) throw new QuectelError('SOCKET_IDS_EXHAUSTED', `all ${CLIENT_IDS} client ids are in use`);
    const push = receive === 'push';
    // The id stays taken until open() is done with it: a connection lost while it opened is let go with a close
    // on the module first, so a later open cannot get the id while the module may still be opening on it.
    const conn = new Connection(this.host, id, o.kind, receive, (c) => {
      if (c.everOpened) this.free(c);
    }, this.tuning);
    this.claim(id, conn); // URCs for this id route here from now on (a recv URC can follow the open at once)
    const pdp = this.host.options.pdpContext ?? 1;
    const mode = push ? 1 : 0;
    const command = o.kind === 'ssl'
      ? `AT+QSSLOPEN=${pdp},${ctx},${id},"${o.host}",${o.port},${mode}`
      : `AT+QIOPEN=${pdp},${id},"TCP","${o.host}",${o.port},0,${mode}`;
    const prefix = o.kind === 'ssl' ? '+QSSLOPEN' : '+QIOPEN';
    const limit = o.timeoutMs ?? (o.kind === 'ssl' ? 450_000 : 150_000);
    // A restart, a lost port or PDP context while the open waits for its result: the result will never mean a
    // usable connection, so stop waiting for it (up to 450 s) at once.
    const lost = new AbortController();
    const onLost = () => lost.abort();
    conn.once('close', onLost);
    let late: string | undefined;
    try {
      ({ late } = await this.host.send(command, {
        qiErrorDetail: true, timeoutMs: Math.min(limit, 150_000), lateResult: { prefix: `${prefix}: ${id},`, timeoutMs: limit },
        signal: o.signal ? AbortSignal.any([o.signal, lost.signal]) : lost.signal,
      }));
    } catch (e) {
      // No result in time or given up: the module may still be opening; it must let the id go (§3).
      const unsettled = isQuectelError(e, 'AT_TIMEOUT') || isQuectelError(e, 'AT_ABORTED');
      this.letGo(conn, unsettled);
      if (conn.failure) throw conn.failure;
      if (isQuectelError(e, 'AT_ERROR')) {
        const n = typeof e.context.qiError === 'number' ? e.context.qiError : undefined;
        throw new QuectelError('SOCKET_OPEN_FAILED', `${o.kind === 'ssl' ? 'TLS' : 'TCP'} open of ${o.host}:${o.port} refused: ${e.message}`,
          { host: o.host, port: o.port, id, moduleError: n }, { cause: e });
      }
      throw e;
    } finally {
      conn.off('close', onLost);
    }
    const err = Number(/,\s*(-?\d+)\s*$/.exec(late ?? '')?.[1]);
    if (conn.failure) {
      this.letGo(conn, err === 0);
      throw conn.failure;
    }
    if (err !== 0) {
      this.free(conn);
      throw new QuectelError('SOCKET_OPEN_FAILED',
        `${o.kind === 'ssl' ? 'TLS' : 'TCP'} open of ${o.host}:${o.port} failed: ${late ?? 'no result'}${QI_ERRORS[err] ? ` (${QI_ERRORS[err]})` : ''}`,
        { host: o.host, port: o.port, id, moduleError: Number.isNaN(err) ? undefined : err });
    }
    conn.opened();
    return conn;
  }

  /**
   * Access mode 2 (§5.2): the port becomes the connection. It needs the port to itself: no other connection may be
   * open (nothing could be sent or read for it meanwhile), and URCs must not be due on this port, where the module
   * could not report them (see {@link urcPlan}). `CONNECT` is the open's success; there is no late result.
   */
  private async openTransparent(o: OpenConnectionOptions, ctx: number): Promise<Connection> {
    const others = this.all.length;
    if (others > 0) {
      throw new QuectelError('PORT_IN_USE', `transparent mode takes the whole port, and ${others} other connection${others > 1 ? 's are' : ' is'} ` +
        'open on it: close them first, or use a second AT interface (another Modem) for the transparent stream', { open: others });
    }
    const id = 0;
    const conn = new Connection(this.host, id, o.kind, 'transparent', (c) => {
      if (c.everOpened) this.free(c);
      this.restoring = this.restoreUrcPort();
    }, this.tuning);
    this.claim(id, conn);
    const pdp = this.host.options.pdpContext ?? 1;
    const command = o.kind === 'ssl'
      ? `AT+QSSLOPEN=${pdp},${ctx},${id},"${o.host}",${o.port},2`
      : `AT+QIOPEN=${pdp},${id},"TCP","${o.host}",${o.port},0,2`;
    const limit = o.timeoutMs ?? (o.kind === 'ssl' ? 450_000 : 150_000);
    let channel;
    try {
      await this.urcPlan(o.signal);
      ({ channel } = await this.host.send(command, { dataMode: true, qiErrorDetail: true, timeoutMs: limit, ...(o.signal ? { signal: o.signal } : {}) }));
    } catch (e) {
      const unsettled = isQuectelError(e, 'AT_TIMEOUT') || isQuectelError(e, 'AT_ABORTED');
      this.letGo(conn, unsettled);
      await this.restoreUrcPort();
      if (isQuectelError(e, 'AT_ERROR') && e.context.command === command) {
        const n = typeof e.context.qiError === 'number' ? e.context.qiError : undefined;
        // "Invalid parameters" with the id free and the port ours: the access mode itself, if the test form
        // lists no mode 2 (else a degraded stack, T17).
        if (n === 552 && !(await this.listsTransparent(o.kind))) {
          throw new QuectelError('NOT_SUPPORTED', `${command} was refused with 552 (invalid parameters): this firmware has no ` +
            "transparent mode (its test command lists no access mode 2); use receive: 'push'", { command, moduleError: n }, { cause: e });
        }
        throw new QuectelError('SOCKET_OPEN_FAILED', `${o.kind === 'ssl' ? 'TLS' : 'TCP'} open of ${o.host}:${o.port} in transparent mode refused: ${e.message}`,
          { host: o.host, port: o.port, id, moduleError: n }, { cause: e });
      }
      throw e;
    }
    if (!channel) {
      this.free(conn);
      throw new QuectelError('AT_BAD_REPLY', `${command} answered CONNECT without a data channel`);
    }
    this.previous.delete(id); // what the old session still said came before CONNECT
    conn.openedTransparent(channel);
    return conn;
  }

  /** Whether the open command's test form lists access mode 2 (`…[,(0-2)]`); true when it cannot be told. */
  private async listsTransparent(kind: ConnectionKind): Promise<boolean> {
    const name = kind === 'ssl' ? '+QSSLOPEN' : '+QIOPEN';
    const r = await this.host.send(`AT${name}=?`, { expect: [`${name}:`] }).catch(() => undefined);
    const modes = /\(0-(\d)\)\]?\s*$/.exec(r?.lines[0] ?? '')?.[1];
    return modes === undefined || Number(modes) >= 2;
  }

  /**
   * Where URCs go while the port carries a transparent connection (`AT+QURCCFG="urcport"`, §1.3). Nothing is lost
   * when they go to another interface (`atPort` names this one); when they come here, they are moved to
   * `dataModeUrcPort` for the connection's lifetime; with neither, the open is refused and says why.
   * @throws QuectelError `URC_PORT_CONFLICT`.
   */
  private async urcPlan(signal: AbortSignal | undefined): Promise<void> {
    const { atPort, dataModeUrcPort } = this.host.options;
    const r = await this.host.send('AT+QURCCFG="urcport"', { expect: ['+QURCCFG:'], ...(signal ? { signal } : {}) }).catch((e: unknown) => {
      if (isQuectelError(e, 'AT_ERROR') || isQuectelError(e, 'AT_CME_ERROR')) return undefined;
      throw e;
    });
    const current = /"urcport","(\w+)"/.exec(r?.lines[0] ?? '')?.[1] as UrcPort | undefined;
    if (current !== undefined && atPort !== undefined && current !== atPort) return; // they go elsewhere already
    const where = current === undefined ? 'this port (the module has no AT+QURCCFG: it has one AT port)' : atPort === undefined
      ? `${current}, which the library takes to be this port (it gets its URCs there)` : `${current}, this port`;
    if (current === undefined || dataModeUrcPort === undefined || dataModeUrcPort === current) {
      throw new QuectelError('URC_PORT_CONFLICT',
        `transparent mode would lose URCs: they go to ${where}, and while the port carries the connection's bytes the module ` +
        'cannot report anything on it. Give Modem.open a dataModeUrcPort (another interface: URCs go there while the stream ' +
        'runs, and nothing of this modem needs them meanwhile), or atPort if URCs already go to another interface; or use ' +
        "receive: 'push', which is nearly as fast", { urcPort: current ?? 'none', atPort: atPort ?? 'unknown' });
    }
    await this.host.send(`AT+QURCCFG="urcport","${dataModeUrcPort}"`, signal ? { signal } : {});
    this.urcPortToRestore = current;
  }

  /** The URC port being set back after a transparent connection closed, while it is. */
  private restoring: Promise<void> | undefined;

  /** Resolves once what a closed transparent connection left to do (setting the URC port back) is done. */
  async settled(): Promise<void> {
    await this.restoring;
  }

  /** URCs back where they went before a transparent connection moved them. */
  private async restoreUrcPort(): Promise<void> {
    const port = this.urcPortToRestore;
    if (port === undefined) return;
    try {
      await this.host.send(`AT+QURCCFG="urcport","${port}"`, { timeoutMs: 5000 });
      this.urcPortToRestore = undefined;
    } catch {
      // A lost port or a restart: the restore hook sends it when the modem comes back.
    }
  }

  /**
   * Frees the id of a connection that never became usable; when the module may hold it open (no result, or a
   * result that came after the connection was lost), after closing it there, in the background.
   */
  private letGo(conn: Connection, closeOnModule: boolean): void {
    if (!closeOnModule) return this.free(conn);
    const close = `${FAMILIES[conn.kind].close}=${conn.id},0`;
    void this.host.send(close, { timeoutMs: 10_000 }).catch(() => undefined).finally(() => this.free(conn));
  }

  private free(conn: Connection): void {
    if (this.slots[conn.id] !== conn) return;
    this.slots[conn.id] = undefined;
    if (conn.everOpened && conn.receive !== 'transparent') this.previous.set(conn.id, { pushing: conn.push });
  }

  /** Routes `+QSSLURC:`/`+QIURC:` "recv" and "closed" to their connection; only signals. */
  private onUrc(line: string, data: Uint8Array | undefined): void {
    // An open's result: what the module said of the id's old session is behind it.
    const opened = /^\+(?:QSSLOPEN|QIOPEN): (\d+),/.exec(line);
    if (opened) return void this.previous.delete(Number(opened[1]));
    const m = /^\+(QSSLURC|QIURC): "(recv|closed)",(\d+)/.exec(line);
    if (!m || this.previous.has(Number(m[3]))) return;
    const conn = this.slots[Number(m[3])];
    if (!conn || (m[1] === 'QSSLURC') !== (conn.kind === 'ssl')) return;
    if (m[2] === 'closed') conn.onClosedUrc();
    // Bytes the engine counted for a push connection are its own, whatever its mode is by the time they are handed on.
    else conn.onRecvUrc(conn.receive === 'push' ? data : undefined);
  }
}
