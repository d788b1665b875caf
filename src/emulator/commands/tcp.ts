/**
 * The TCP command family of the BG96 TCP(IP) AT Commands Manual (quectel-at.md §7.2), TCP clients only: the
 * `usocket` layer needs no UDP or listeners yet.
 */
import type { CommandTable } from '../ModuleCore.js';
import { openTcp } from '../network/openConnection.js';
import { intArg, strArg } from '../parseCommandLine.js';
import { intSetting } from './intSetting.js';
import {
  closeHandler, familyConns, recvHandler, sendHandler, startOpen, stateLine, switchModeHandler, type SocketFamily,
} from './sockets.js';

const TCP_FAILURES = { dns: 565, connect: 566, timeout: 569, handshake: 566, certificate: 566 } as const;

export const TCP_FAMILY: SocketFamily = {
  service: 'TCP', openUrc: '+QIOPEN', urc: '+QIURC', recv: '+QIRD', state: '+QISTATE',
  failureCode: (_core, failure) => TCP_FAILURES[failure],
};

export const TCP_TABLE: CommandTable = {
  '+QIOPEN': (cmd, io, core) => {
    const maxPdp = core.profile.maxPdpContext;
    if (cmd.form === 'test') {
      io.info(`+QIOPEN: (1-${maxPdp}),(0-11),"TCP/UDP/TCP LISTENER/UDP SERVICE","<IP_address>/<domain_name>",<remote_port>,<local_port>,(0-${core.transparentSupported ? 2 : 1})`);
      return io.ok();
    }
    const pdpContext = intArg(cmd.args, 0, 1, maxPdp);
    const id = intArg(cmd.args, 1, 0, 11);
    const type = strArg(cmd.args, 2);
    const host = strArg(cmd.args, 3);
    const port = intArg(cmd.args, 4, 1, 65_535);
    const local = cmd.args.length > 5 ? intArg(cmd.args, 5, 0, 65_535) : 0;
    const mode = cmd.args.length > 6 ? intArg(cmd.args, 6, 0, core.transparentSupported ? 2 : 1) : 0;
    if (cmd.form !== 'set' || pdpContext === undefined || id === undefined || type === undefined || !host ||
      port === undefined || local === undefined || mode === undefined || cmd.args.length > 7) return io.qiError(552);
    if (type !== 'TCP') return io.qiError(555);
    return startOpen(TCP_FAMILY, {
      id, pdpContext, sslContext: 0, host, port, accessMode: mode as 0 | 1 | 2, connect: (signal) => openTcp(core, host, port, signal),
    }, io, core);
  },
  '+QISEND': sendHandler(TCP_FAMILY, '+QISEND', (cmd, io, core) => {
    // `AT+QISEND=<id>,0`: totals of sent, acknowledged and unacknowledged bytes (§7.2).
    const c = core.state.conns[intArg(cmd.args, 0, 0, 11) ?? -1];
    if (!c || c.init.service !== 'TCP') return io.qiError(552);
    io.info(`+QISEND: ${c.sent},${c.sent - c.unacked},${c.unacked}`);
    io.ok();
  }),
  '+QIRD': recvHandler(TCP_FAMILY, '+QIRD', true),
  '+QISWTMD': switchModeHandler,
  '+QICLOSE': closeHandler(TCP_FAMILY, '+QICLOSE'),
  '+QISTATE': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    let filter: (ctx: number, id: number) => boolean = () => true;
    if (cmd.form === 'set') {
      const kind = intArg(cmd.args, 0, 0, 1);
      const value = intArg(cmd.args, 1, 0, kind === 1 ? 11 : core.profile.maxPdpContext);
      if (kind === undefined || value === undefined || cmd.args.length !== 2) return io.qiError(552);
      filter = kind === 0 ? (ctx) => ctx === value : (_ctx, id) => id === value;
    } else if (cmd.form !== 'exec') return io.qiError(552);
    for (const c of familyConns(TCP_FAMILY, core)) {
      if (filter(c.init.pdpContext, c.id)) io.info(stateLine(TCP_FAMILY, core, c));
    }
    io.ok();
  },
  '+QISDE': intSetting('+QISDE', 1, (c) => (c.state.sendEcho ? 1 : 0), (c, v) => { c.state.sendEcho = v === 1; }),
};
