/**
 * The SSL command family of the BG96 SSL AT Commands Manual (quectel-at.md §2–§5): contexts, open, send, receive,
 * close, state. Only models with an SSL profile get this table; BC25 answers `ERROR` to all of it.
 */
import { ALL_CIPHER_SUITES, formatCipherCode, parseCipherCode } from '../../protocol/cipherSuites.js';
import type { CommandTable, ModuleCore, ResponseWriter, SslParamValue } from '../ModuleCore.js';
import { openTls, sslSetting } from '../network/openConnection.js';
import { intArg, strArg, type ParsedCommand } from '../parseCommandLine.js';
import { SSL_PARAMS, type SslParamName } from '../sslParams.js';
import {
  closeHandler, familyConns, recvHandler, sendHandler, startOpen, stateLine, switchModeHandler, type SocketFamily,
} from './sockets.js';

export const SSL_FAMILY: SocketFamily = {
  service: 'SSL', openUrc: '+QSSLOPEN', urc: '+QSSLURC', recv: '+QSSLRECV', state: '+QSSLSTATE',
  failureCode: (core, failure) => core.profile.ssl!.failureCodes[failure],
};

const MAX_SSL_CONTEXT = 5;

function formatValue(name: SslParamName, value: SslParamValue): string {
  if (typeof value !== 'number') return value.length === 0 ? '""' : value.map((v) => `"${v}"`).join(',');
  return SSL_PARAMS[name].kind === 'cipher' ? formatCipherCode(value) : String(value);
}

/** Reads the value part of a set command; `undefined` when the firmware would answer `ERROR`. */
function parseValue(core: ModuleCore, name: SslParamName, cmd: ParsedCommand): SslParamValue | undefined {
  const spec = SSL_PARAMS[name];
  const rest = cmd.args.slice(2);
  switch (spec.kind) {
    case 'int': {
      const v = rest.length === 1 ? intArg(rest, 0, 0, Number.MAX_SAFE_INTEGER) : undefined;
      return v !== undefined && core.profile.ssl!.accepts(name, v) ? v : undefined;
    }
    case 'cipher': {
      const a = rest[0];
      // T01/S13: the BG96 wants the code unquoted; a quoted "0XFFFF" is ERROR there.
      if (rest.length !== 1 || !a || (a.quoted && core.profile.ssl!.rejectsQuotedCipher)) return undefined;
      const code = parseCipherCode(a.text);
      if (code === undefined) return undefined;
      return code === ALL_CIPHER_SUITES || core.profile.ssl!.cipherCodes.includes(code) ? code : undefined;
    }
    case 'string': {
      const max = spec.extra ? 2 : 1;
      if (rest.length < 1 || rest.length > max || rest.some((r) => !r.quoted || r.text.length > 80)) return undefined;
      return rest.map((r) => r.text);
    }
    case 'pair':
      return rest.length === 2 && rest.every((r) => r.quoted) ? rest.map((r) => r.text) : undefined;
  }
}

function qsslcfg(cmd: ParsedCommand, io: ResponseWriter, core: ModuleCore): void {
  const params = core.profile.ssl!.params;
  if (cmd.form === 'test') {
    // The firmware's own lines (firmware/sslTestResponses.ts), byte for byte.
    for (const line of core.profile.ssl!.testLines) io.info(line);
    return io.ok();
  }
  const name = strArg(cmd.args, 0)?.toLowerCase() as SslParamName | undefined;
  const ctxId = intArg(cmd.args, 1, 0, MAX_SSL_CONTEXT);
  // Bad parameters: a bare ERROR (S1 §2.1.1), with 552 for AT+QIGETERROR (checklist §10 item 3).
  if (cmd.form !== 'set' || name === undefined || !params.includes(name) || ctxId === undefined) return io.qiError(552);
  let ctx = core.state.ssl.get(ctxId);
  if (cmd.args.length === 2) {
    // No value: a query. T01: `AT+QSSLCFG="ignorelocaltime",1` read context 1, it did not set anything.
    io.info(`+QSSLCFG: "${name}",${ctxId},${formatValue(name, sslSetting(ctx, name))}`);
    return io.ok();
  }
  const value = parseValue(core, name, cmd);
  if (value === undefined) return io.qiError(552);
  if (!ctx) {
    ctx = new Map();
    core.state.ssl.set(ctxId, ctx);
  }
  ctx.set(name, value);
  io.ok();
}

export const SSL_TABLE: CommandTable = {
  '+QSSLCFG': qsslcfg,
  '+QSSLOPEN': (cmd, io, core) => {
    const maxPdp = core.profile.maxPdpContext;
    if (cmd.form === 'test') {
      io.info(`+QSSLOPEN: (1-${maxPdp}),(0-${MAX_SSL_CONTEXT}),(0-11),<serveraddr>,<server_port>[,(0-${core.transparentSupported ? 2 : 1})]`);
      return io.ok();
    }
    const pdpContext = intArg(cmd.args, 0, 1, maxPdp);
    const sslContext = intArg(cmd.args, 1, 0, MAX_SSL_CONTEXT);
    const id = intArg(cmd.args, 2, 0, 11);
    const host = strArg(cmd.args, 3);
    const port = intArg(cmd.args, 4, 1, 65_535);
    const mode = cmd.args.length > 5 ? intArg(cmd.args, 5, 0, core.transparentSupported ? 2 : 1) : 0;
    if (cmd.form !== 'set' || pdpContext === undefined || sslContext === undefined || id === undefined ||
      !host || port === undefined || mode === undefined || cmd.args.length > 6) return io.qiError(552);
    return startOpen(SSL_FAMILY, {
      id, pdpContext, sslContext, host, port, accessMode: mode as 0 | 1 | 2,
      connect: (signal) => openTls(core, host, port, core.state.ssl.get(sslContext), signal),
    }, io, core);
  },
  '+QSSLSEND': sendHandler(SSL_FAMILY, '+QSSLSEND'),
  '+QISWTMD': switchModeHandler,
  '+QSSLRECV': recvHandler(SSL_FAMILY, '+QSSLRECV', false),
  '+QSSLCLOSE': closeHandler(SSL_FAMILY, '+QSSLCLOSE'),
  '+QSSLSTATE': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    const one = cmd.form === 'set' ? intArg(cmd.args, 0, 0, 11) : undefined;
    if ((cmd.form !== 'exec' && cmd.form !== 'set') || (cmd.form === 'set' && one === undefined)) return io.qiError(552);
    for (const c of familyConns(SSL_FAMILY, core)) {
      if (one === undefined || c.id === one) io.info(stateLine(SSL_FAMILY, core, c));
    }
    io.ok();
  },
};
