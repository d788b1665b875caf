/**
 * The module's client connections: one pool of client ids 0–11 shared by TCP (`AT+QIOPEN`) and SSL
 * (`AT+QSSLOPEN`), as the reference advises (§3: whether the firmware shares them is uncertain, so never reuse an
 * id across the two), opens with their late result, and the URCs that drive each connection.
 */
import { isQuectelError, QuectelError } from '../../errors.js';
import { QI_ERRORS } from '../../protocol/errorCodes.js';
import { Connection, FAMILIES, type ConnectionKind, type ConnectionTuning } from './Connection.js';
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
  /** `buffer` (access mode 0, reads with AT+QSSLRECV) or `push` (1: data comes inside the URC). Default: buffer. */
  readonly receive?: 'buffer' | 'push';
  /** How long the open may take in all, command and result. Default: 150 s, plus 300 s of TLS negotiation. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class ConnectionService {
  private readonly slots: Array<Connection | undefined> = new Array(CLIENT_IDS).fill(undefined);

  constructor(private readonly host: ServiceHost, private readonly tuning: ConnectionTuning = {}) {
    host.on('urc', (line, data) => this.onUrc(line, data));
    host.on('socketsLost', () => {
      for (const c of this.slots) c?.lost('the module restarted, the port was lost or the PDP context dropped');
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
   * connection opened in push mode. In buffer mode the same shape is a notification (QICFG "recvind", §5.1).
   */
  pushedLength(line: string): number | undefined {
    const m = /^\+(?:QSSLURC|QIURC): "recv",(\d+),(\d+)$/.exec(line);
    if (!m) return undefined;
    return this.slots[Number(m[1])]?.push ? Number(m[2]) : undefined;
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
    const id = this.slots.findIndex((s) => s === undefined);
    if (id < 0) throw new QuectelError('SOCKET_IDS_EXHAUSTED', `all ${CLIENT_IDS} client ids are in use`);
    const push = o.receive === 'push';
    // The id stays taken until open() is done with it: a connection lost while it opened is let go with a close
    // on the module first, so a later open cannot get the id while the module may still be opening on it.
    const conn = new Connection(this.host, id, o.kind, push, (c) => {
      if (c.everOpened) this.free(c);
    }, this.tuning);
    this.slots[id] = conn; // URCs for this id route here from now on (a recv URC can follow the open at once)
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
   * Frees the id of a connection that never became usable; when the module may hold it open (no result, or a
   * result that came after the connection was lost), after closing it there, in the background.
   */
  private letGo(conn: Connection, closeOnModule: boolean): void {
    if (!closeOnModule) return this.free(conn);
    const close = `${FAMILIES[conn.kind].close}=${conn.id},0`;
    void this.host.send(close, { timeoutMs: 10_000 }).catch(() => undefined).finally(() => this.free(conn));
  }

  private free(conn: Connection): void {
    if (this.slots[conn.id] === conn) this.slots[conn.id] = undefined;
  }

  /** Routes `+QSSLURC:`/`+QIURC:` "recv" and "closed" to their connection; only signals. */
  private onUrc(line: string, data: Uint8Array | undefined): void {
    const m = /^\+(QSSLURC|QIURC): "(recv|closed)",(\d+)/.exec(line);
    if (!m) return;
    const conn = this.slots[Number(m[3])];
    if (!conn || (m[1] === 'QSSLURC') !== (conn.kind === 'ssl')) return;
    if (m[2] === 'closed') conn.onClosedUrc();
    else conn.onRecvUrc(conn.push ? data : undefined);
  }
}
