/**
 * What the TCP (`AT+QI*`) and SSL (`AT+QSSL*`) command families share: the client-id pool, the asynchronous open,
 * send with a prompt, buffered receive, close and the state listing (quectel-at.md §3, §4, §5, §7.2).
 */
import type { CommandHandler, ModuleCore, ResponseWriter } from '../ModuleCore.js';
import type { OpenFailure } from '../models.js';
import { NetConnection, PUSH_CHUNK, type ConnEvents, type ConnService } from '../network/NetConnection.js';
import type { OpenOutcome } from '../network/openConnection.js';
import { intArg } from '../parseCommandLine.js';

/** The names one family uses for the same operations. */
export interface SocketFamily {
  readonly service: ConnService;
  /** `+QSSLOPEN` / `+QIOPEN`: the open result URC. */
  readonly openUrc: string;
  /** `+QSSLURC` / `+QIURC`: recv and closed URCs. */
  readonly urc: string;
  /** `+QSSLRECV` / `+QIRD`: the read response prefix. */
  readonly recv: string;
  /** `+QSSLSTATE` / `+QISTATE`. */
  readonly state: string;
  /** `<err>` per failure for this family on this model. */
  failureCode(core: ModuleCore, failure: OpenFailure): number;
}

/** Most a send may carry: the test command's `(1-1460)` (§4.1; Mbed's BG96_MAX_SEND_SIZE). */
export const MAX_SEND = 1460;
/** Most a read returns (§4.2). */
export const MAX_READ = 1500;
const CRLF = Buffer.from('\r\n');

export interface OpenRequest {
  readonly id: number;
  readonly pdpContext: number;
  readonly sslContext: number;
  readonly host: string;
  readonly port: number;
  readonly accessMode: 0 | 1 | 2;
  /** Opens the socket; `signal` aborts when the connection is closed, the module reboots or is disposed. */
  readonly connect: (signal: AbortSignal) => Promise<OpenOutcome>;
}

/**
 * Answers `OK`, then opens in the background and reports `<openUrc>: <id>,<err>` (§3: the result comes after OK).
 * The caller has validated the request; a busy id is refused here with 552 (the reference's T21 default).
 */
export function startOpen(family: SocketFamily, req: OpenRequest, io: ResponseWriter, core: ModuleCore): void | Promise<void> {
  if (req.accessMode === 2) return openTransparent(family, req, io, core);
  if (core.state.conns[req.id]) return io.qiError(552);
  if (!core.state.pdp.get(req.pdpContext)?.active) return io.qiError(572);
  const conn = new NetConnection({
    id: req.id, service: family.service, pdpContext: req.pdpContext, sslContext: req.sslContext, host: req.host,
    port: req.port, accessMode: req.accessMode, rearm: core.profile.ssl?.recvRearm ?? 'drained', ...core.sendPath,
  });
  core.state.conns[req.id] = conn;
  io.ok();
  void finishOpen(family, req, conn, core);
}

async function finishOpen(family: SocketFamily, req: OpenRequest, conn: NetConnection, core: ModuleCore): Promise<void> {
  const gen = core.generation;
  const report = (err: number) => core.urc(`${family.openUrc}: ${req.id},${err}`, gen);
  // T17: after some opens the stack degrades and every open fails with 552 until a reboot.
  if (core.faults.openDegraded()) {
    core.state.conns[req.id] = undefined;
    return report(552);
  }
  const outcome = await reachPeer(family, req, conn, core);
  if (outcome === undefined) return;
  if (typeof outcome === 'number') return report(outcome);
  core.faults.countOpen();
  conn.attach(outcome.socket, connEvents(family, core, gen));
  conn.remoteIp = outcome.ip;
  report(0);
}

/**
 * Reaches `conn`'s peer (for SSL, with the handshake's latency): the connected outcome; the failure's code, with the
 * id freed; or undefined when the module restarted or the id was closed meanwhile (the socket is dropped).
 */
async function reachPeer(family: SocketFamily, req: OpenRequest, conn: NetConnection, core: ModuleCore): Promise<Extract<OpenOutcome, { ok: true }> | number | undefined> {
  const gen = core.generation;
  const outcome = await req.connect(conn.abortSignal);
  if (family.service === 'SSL') await core.sleep(core.latency.handshakeMs);
  if (gen !== core.generation || core.state.conns[req.id] !== conn) {
    if (outcome.ok) outcome.socket.destroy();
    return undefined;
  }
  // The peer may have reset it during the handshake latency.
  if (!outcome.ok || outcome.socket.destroyed) {
    core.state.conns[req.id] = undefined;
    return family.failureCode(core, outcome.ok ? 'connect' : outcome.failure);
  }
  return outcome;
}

/** What a connection's news becomes: recv and closed URCs, pushed data, or bytes on a port in transparent mode. */
function connEvents(family: SocketFamily, core: ModuleCore, gen: number): ConnEvents {
  return {
    onData: (c) => core.urc(`${family.urc}: "recv",${c.id}`, gen),
    onPushable: (c) => void pushOut(family.urc, c, core, gen),
    onClosed: (c) => {
      if (gen !== core.generation) return;
      // In transparent mode the port says NO CARRIER instead (§5.2).
      if (c.accessMode === 2) core.transparentClosed(c);
      // Push mode: after the last pushed byte, never before it.
      else if (c.accessMode === 1 && c.buffered > 0) c.closedUrcDue = true;
      else core.urc(`${family.urc}: "closed",${c.id}`, gen);
    },
    onTransparent: (c, chunk) => {
      if (gen === core.generation) core.transparentOutput(c, chunk);
    },
  };
}

/**
 * Bytes of pushed data the module lets wait on their way to the host, on the line and in URCs held while a command
 * runs, before it pushes more: a UART's transmit buffer (as the host side's 4 KiB). A switch to buffer mode stops
 * the pushing there; the host may still get this much, and one URC more, after it asked.
 */
export const PUSH_WINDOW = 4096;

/**
 * Push mode (§5.1): the buffer goes out as `+QSSLURC: "recv",<id>,<len>` URCs of up to 1500 bytes, each followed by
 * CR LF [INFER], as fast as the line takes them (at most {@link PUSH_WINDOW} bytes waiting), until it is empty, the
 * connection leaves push mode, or it is gone. A peer's close waiting behind the data is reported after its last byte.
 */
async function pushOut(urc: string, c: NetConnection, core: ModuleCore, gen: number): Promise<void> {
  if (c.pushing) return;
  c.pushing = true;
  const live = () => gen === core.generation && core.state.conns[c.id] === c && c.accessMode === 1;
  try {
    while (live() && c.buffered > 0) {
      if (core.outputWaiting >= PUSH_WINDOW) {
        await core.outputRoom(PUSH_WINDOW / 2);
        continue;
      }
      const part = c.take(PUSH_CHUNK);
      core.urcWithData(`${urc}: "recv",${c.id},${part.length}`, Buffer.concat([part, CRLF]), gen);
    }
  } finally {
    c.pushing = false;
  }
  if (live() && c.closedUrcDue && c.buffered === 0) {
    c.closedUrcDue = false;
    core.urc(`${urc}: "closed",${c.id}`, gen);
  }
}

/**
 * Access mode 2 (§3, §5.2): no `OK` first; the module opens (and for SSL shakes hands) while the command runs, then
 * answers `CONNECT` and the port becomes the connection's; any failure is `ERROR`, with the reason for
 * `AT+QIGETERROR` (EC200U TCP/IP AN §2.4.7: "If there is any error: ERROR").
 */
async function openTransparent(family: SocketFamily, req: OpenRequest, io: ResponseWriter, core: ModuleCore): Promise<void> {
  if (core.state.conns[req.id]) return io.qiError(552);
  if (!core.state.pdp.get(req.pdpContext)?.active) return io.qiError(572);
  if (core.faults.openDegraded()) return io.qiError(552);
  const conn = new NetConnection({
    id: req.id, service: family.service, pdpContext: req.pdpContext, sslContext: req.sslContext, host: req.host,
    port: req.port, accessMode: 2, rearm: core.profile.ssl?.recvRearm ?? 'drained', ...core.sendPath,
  });
  core.state.conns[req.id] = conn;
  const gen = core.generation;
  const outcome = await reachPeer(family, req, conn, core);
  if (outcome === undefined) return;
  if (typeof outcome === 'number') return io.qiError(outcome);
  core.faults.countOpen();
  conn.attach(outcome.socket, connEvents(family, core, gen));
  conn.remoteIp = outcome.ip;
  core.enterDataMode(conn, io);
}

/**
 * `AT+QISWTMD=<id>,<mode>` (§5.2, EC200U TCP/IP AN §2.4.13): switches an open connection's access mode; `OK`, or
 * `CONNECT` and transparent mode for 2. Where the switch falls in the output is inferred, as the host needs it to be
 * to read the bytes around it: URCs held while the command ran (pushed data, a notification) go out before its
 * `OK`, in the old mode; what the new mode brings follows the `OK`. To buffer mode: pushing stops, the rest of the
 * buffer stays for `AT+QSSLRECV`, and one `"recv",<id>` URC says so if there is any (then a peer's close that
 * waited behind it). To push mode: what was buffered meanwhile is pushed right after the `OK` [INFER: not
 * documented]. A connection in the closing state (4, the peer closed) still switches between 0 and 1: what it holds
 * stays readable until `AT+QSSLCLOSE` (§4.2) [INFER]; transparent mode needs it connected (567), as does an id still
 * opening.
 */
export const switchModeHandler: CommandHandler = (cmd, io, core) => {
  const top = core.transparentSupported ? 2 : 1;
  if (cmd.form === 'test') {
    io.info(`+QISWTMD: (0-11),(0-${top})`);
    return io.ok();
  }
  const id = intArg(cmd.args, 0, 0, 11);
  const mode = intArg(cmd.args, 1, 0, top);
  if (cmd.form !== 'set' || id === undefined || mode === undefined || cmd.args.length !== 2) return io.qiError(552);
  const conn = core.state.conns[id];
  if (!conn) return io.qiError(552);
  if (conn.state === 1 || (mode === 2 && conn.state !== 2)) return io.qiError(567);
  if (mode === 2) return core.enterDataMode(conn, io);
  core.flushUrcs();
  const urc = conn.init.service === 'SSL' ? '+QSSLURC' : '+QIURC';
  const notify = conn.switchTo(mode as 0 | 1);
  io.ok();
  if (mode === 0 && notify) core.urc(`${urc}: "recv",${conn.id}`);
  // A peer's close that waited behind data to push: the data now waits for reads, the close is said at once.
  if (mode === 0 && conn.closedUrcDue) {
    conn.closedUrcDue = false;
    core.urc(`${urc}: "closed",${conn.id}`);
  }
  if (mode === 1 && conn.buffered > 0) void pushOut(urc, conn, core, core.generation);
};

function ownConn(family: SocketFamily, core: ModuleCore, id: number | undefined): NetConnection | undefined {
  const c = id === undefined ? undefined : core.state.conns[id];
  return c && c.init.service === family.service ? c : undefined;
}

/** `AT+QSSLSEND=<id>[,<len>]` / `AT+QISEND=<id>[,<len>]`: the prompt, the payload, then `SEND OK`. */
export function sendHandler(family: SocketFamily, name: string, onZeroLength?: CommandHandler): CommandHandler {
  return async (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`${name}: (0-11),(1-${MAX_SEND})`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 0, 11);
    const len = cmd.args.length > 1 ? intArg(cmd.args, 1, 0, MAX_SEND) : undefined;
    if (cmd.form !== 'set' || id === undefined || (cmd.args.length > 1 && len === undefined) || cmd.args.length > 2) {
      return io.qiError(552);
    }
    if (len === 0) return onZeroLength ? onZeroLength(cmd, io, core) : io.qiError(552);
    const conn = ownConn(family, core, id);
    if (!conn || conn.state !== 2) return io.qiError(567);
    await core.sleep(core.latency.promptMs);
    if (conn.state !== 2) return io.qiError(567);
    io.prompt();
    const got = await core.readPayload(len === undefined ? { kind: 'send', ctrlZ: true } : { kind: 'send', length: len });
    if (got.end === 'escape') return io.ok();
    if (conn.state !== 2) return io.qiError(567);
    // The buffer is checked once the payload is in (the manuals list SEND FAIL among the answers after `>`).
    if (core.faults.takeSendFail() || !conn.fits(got.data.length)) return io.result('SEND FAIL');
    if (got.data.length > 0 && !conn.write(got.data)) return io.qiError(558);
    // The bytes are in the socket already; the delay is the module's, before it says so.
    await core.sleep(core.latency.sendOkMs);
    io.result('SEND OK');
  };
}

/** `AT+QSSLRECV=<id>,<len>` / `AT+QIRD=<id>[,<len>]`: up to `len` buffered bytes, framed per §1.2. */
export function recvHandler(family: SocketFamily, name: string, lengthOptional: boolean): CommandHandler {
  return (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`${name}: (0-11),(${lengthOptional ? 0 : 1}-${MAX_READ})`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 0, 11);
    const len = cmd.args.length > 1 ? intArg(cmd.args, 1, 0, MAX_READ) : lengthOptional ? MAX_READ : undefined;
    const conn = ownConn(family, core, id);
    if (cmd.form !== 'set' || len === undefined || cmd.args.length > 2 || !conn || conn.accessMode !== 0) {
      return io.qiError(552);
    }
    if (len === 0) {
      if (!lengthOptional) return io.qiError(552);
      // `AT+QIRD=<id>,0`: totals instead of data (§7.2).
      io.info(`${family.recv}: ${conn.received},${conn.read},${conn.buffered}`);
      return io.ok();
    }
    // T26: a URC may sit in front of the read response; the fault knob puts it there.
    for (const u of core.faults.takeUrcBeforeRecv()) io.bytes(Buffer.from(`\r\n${u}\r\n`, 'latin1'));
    const data = conn.take(len);
    io.info(`${family.recv}: ${data.length}`);
    if (data.length > 0) {
      io.bytes(data);
      io.bytes(CRLF);
    }
    io.ok();
  };
}

/** `AT+QSSLCLOSE=<id>[,<timeout>]` / `AT+QICLOSE=<id>[,<timeout>]`: closing a free id is `OK` too (T07). */
export function closeHandler(family: SocketFamily, name: string): CommandHandler {
  return async (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`${name}: (0-11),(0-65535)`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 0, 11);
    const timeout = cmd.args.length > 1 ? intArg(cmd.args, 1, 0, 65_535) : 10;
    if (cmd.form !== 'set' || id === undefined || timeout === undefined || cmd.args.length > 2) return io.qiError(552);
    const conn = core.state.conns[id];
    if (conn && conn.init.service !== family.service) return io.qiError(552);
    // With a timeout the bytes still in the send buffer go out first: the module waits that long for the peer's
    // FIN ACK before it forces the close (S1 §2.1.5; EC200U TCP/IP AN §2.4.8).
    const gen = core.generation;
    for (const end = Date.now() + timeout * 1000; conn && conn.state === 2 && conn.unacked > 0 && Date.now() < end;) await core.sleep(10);
    if (gen !== core.generation) return;
    conn?.destroy();
    core.state.conns[id] = undefined;
    io.ok();
  };
}

/** One `+QSSLSTATE:`/`+QISTATE:` line (§4.4, §7.2). */
export function stateLine(family: SocketFamily, core: ModuleCore, c: NetConnection): string {
  const type = family.service === 'SSL' ? 'SSLClient' : 'TCP';
  const ip = c.remoteIp || c.init.host;
  const local = core.profile.reportsLocalPort ? c.localPort : 0;
  const base = `${family.state}: ${c.id},"${type}","${ip}",${c.init.port},${local},${c.state},${c.init.pdpContext},` +
    `${c.id},${c.accessMode},"${core.atPort}"`;
  return family.service === 'SSL' ? `${base},${c.init.sslContext}` : base;
}

/** The connections of one family, in id order. */
export function familyConns(family: SocketFamily, core: ModuleCore): NetConnection[] {
  return core.state.conns.filter((c): c is NetConnection => c !== undefined && c.init.service === family.service);
}
