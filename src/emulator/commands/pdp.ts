/**
 * PDP contexts, DNS and the TCP/IP error query (quectel-at.md §7.1, §7.3, §7.4).
 */
import { QI_ERRORS } from '../../protocol/errorCodes.js';
import type { CommandTable, ModuleCore } from '../ModuleCore.js';
import { intArg, strArg } from '../parseCommandLine.js';
import { pdpContext as context } from './network.js';

const registered = (core: ModuleCore) => core.registration() === 1 || core.registration() === 5;

export const PDP_TABLE: CommandTable = {
  '+QICSGP': (cmd, io, core) => {
    const max = core.profile.maxPdpContext;
    if (cmd.form === 'test') {
      io.info(`+QICSGP: (1-${max}),(1-2),<APN>,<username>,<password>,(0-3)`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, max);
    if (cmd.form !== 'set' || id === undefined) return io.qiError(552);
    if (cmd.args.length === 1) {
      const c = core.state.pdp.get(id);
      // S16: an unconfigured context reads back as type 1 with empty texts.
      io.info(`+QICSGP: ${c?.type ?? 1},"${c?.apn ?? ''}","${c?.user ?? ''}","${c?.password ?? ''}",${c?.auth ?? 0}`);
      return io.ok();
    }
    const type = intArg(cmd.args, 1, 1, 3);
    const apn = strArg(cmd.args, 2);
    const user = cmd.args.length > 3 ? strArg(cmd.args, 3) : '';
    const password = cmd.args.length > 4 ? strArg(cmd.args, 4) : '';
    const auth = cmd.args.length > 5 ? intArg(cmd.args, 5, 0, 3) : 0;
    if (type === undefined || apn === undefined || user === undefined || password === undefined ||
      auth === undefined || cmd.args.length > 6) return io.qiError(552);
    Object.assign(context(core, id), { type, apn, user, password, auth });
    io.ok();
  },

  '+QIACT': async (cmd, io, core) => {
    if (cmd.form === 'read') {
      // No active context: a bare OK (S16/T02).
      for (const [id, c] of [...core.state.pdp.entries()].sort(([a], [b]) => a - b)) {
        if (c.active) io.info(`+QIACT: ${id},1,${c.type},"${c.ip}"`);
      }
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info(`+QIACT: (1-${core.profile.maxPdpContext})`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, core.profile.maxPdpContext);
    if (cmd.form !== 'set' || id === undefined || cmd.args.length !== 1) return io.qiError(552);
    const ctx = context(core, id);
    if (ctx.active) return io.qiError(561);
    await core.sleep(core.latency.pdpActivateMs);
    if (!registered(core)) return io.qiError(561);
    ctx.active = true;
    ctx.ip = `10.7.157.${id}`;
    io.ok();
  },

  '+QIDEACT': (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`+QIDEACT: (1-${core.profile.maxPdpContext})`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, core.profile.maxPdpContext);
    if (cmd.form !== 'set' || id === undefined || cmd.args.length !== 1) return io.qiError(552);
    const ctx = core.state.pdp.get(id);
    if (ctx) {
      ctx.active = false;
      ctx.ip = '';
    }
    // Deactivating a context releases every socket on it.
    core.state.conns.forEach((c, i) => {
      if (c && c.init.pdpContext === id) {
        c.destroy();
        core.state.conns[i] = undefined;
      }
    });
    io.ok();
  },

  '+QIDNSGIP': (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`+QIDNSGIP: (1-${core.profile.maxPdpContext}),<hostname>`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, core.profile.maxPdpContext);
    const host = strArg(cmd.args, 1);
    if (cmd.form !== 'set' || id === undefined || host === undefined || host === '' || cmd.args.length !== 2) {
      return io.qiError(552);
    }
    if (!core.state.pdp.get(id)?.active) return io.qiError(572);
    io.ok();
    const gen = core.generation;
    void (async () => {
      await core.sleep(core.latency.dnsMs);
      try {
        const ip = await core.lookup(host);
        core.urc('+QIURC: "dnsgip",0,1,600', gen);
        core.urc(`+QIURC: "dnsgip","${ip}"`, gen);
      } catch {
        core.urc('+QIURC: "dnsgip",565', gen);
      }
    })();
  },

  '+QIGETERROR': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    if (cmd.form !== 'exec') return io.error();
    const n = core.state.lastQiError;
    io.info(`+QIGETERROR: ${n},${QI_ERRORS[n] ?? 'unknown error'}`);
    io.ok();
  },
};
