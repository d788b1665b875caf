/**
 * Network start-up queries and the 3GPP PDP commands (27.007 `+CGDCONT`, `+CGACT`, `+CGATT`, `+CGPADDR`), per
 * the model's network profile (firmware/networkProfiles.ts). Hosts and other drivers send these during bring-up;
 * the NB-IoT BC25 brings its data path up with them alone (it has no `AT+QIACT`).
 */
import type { CommandHandler, CommandTable, ModuleCore, PdpContext } from '../ModuleCore.js';
import { intArg, strArg } from '../parseCommandLine.js';

const OPERATOR = 'Test Network';
const PLMN = '00101';
const DNS: readonly [string, string] = ['8.8.8.8', '8.8.4.4'];
const PDP_TYPES = ['IP', 'IPV6', 'IPV4V6'] as const;

const registered = (core: ModuleCore) => core.registration() === 1 || core.registration() === 5;

/** A context as `AT+QICSGP` and `AT+CGDCONT` share it (one table in the module). */
export function pdpContext(core: ModuleCore, id: number): PdpContext {
  let ctx = core.state.pdp.get(id);
  if (!ctx) {
    ctx = { type: 1, apn: '', user: '', password: '', auth: 0, active: false, ip: '' };
    core.state.pdp.set(id, ctx);
  }
  return ctx;
}

/** Whether a context is up: activated, or on NB-IoT the default bearer of context 1 once attached (INFER). */
function isActive(core: ModuleCore, id: number): boolean {
  if (core.profile.network.nbIot && id === 1 && core.state.psAttached && registered(core)) return true;
  return core.state.pdp.get(id)?.active === true;
}

/** Context 1 always exists (modules ship with a default context), then every configured one. */
function definedContexts(core: ModuleCore): number[] {
  return [...new Set([1, ...core.state.pdp.keys()])].sort((a, b) => a - b);
}

const address = (core: ModuleCore, id: number) => core.state.pdp.get(id)?.ip || `10.7.157.${id}`;

/** A command that only answers its execute form with one line, or `ERROR` where the profile has no line. */
const lineCommand = (name: string, line: (core: ModuleCore) => string | undefined): CommandHandler => (cmd, io, core) => {
  if (cmd.form === 'test') return io.ok();
  const l = cmd.form === 'exec' ? line(core) : undefined;
  if (l === undefined) return io.error();
  io.info(`${name}: ${l}`);
  io.ok();
};

/** `AT+QCFG="<name>"` reads a setting, `AT+QCFG="<name>",<v>…` sets it; names the profile lacks are ERROR. */
const qcfg: CommandHandler = (cmd, io, core) => {
  const name = strArg(cmd.args, 0);
  const key = name?.toLowerCase();
  const known = key !== undefined && key in core.profile.network.qcfg;
  if (cmd.form !== 'set' || !known) return io.error();
  if (cmd.args.length === 1) {
    io.info(`+QCFG: "${name}",${core.state.qcfg.get(key) ?? core.profile.network.qcfg[key]}`);
    return io.ok();
  }
  core.state.qcfg.set(key, cmd.args.slice(1).map((a) => (a.quoted ? `"${a.text}"` : a.text)).join(','));
  io.ok();
};

const listing = (lines: (core: ModuleCore) => readonly string[] | undefined): CommandHandler => (cmd, io, core) => {
  const l = cmd.form === 'test' ? lines(core) : undefined;
  if (l === undefined) return io.error();
  for (const line of l) io.info(line);
  io.ok();
};

/** Start-up queries of the Quectel LTE families. */
export const NETWORK_TABLE: CommandTable = {
  '+QNWINFO': lineCommand('+QNWINFO', (c) => {
    const l = c.profile.network.qnwinfo;
    return l === undefined ? undefined : registered(c) ? l : 'No Service';
  }),
  '+QCSQ': lineCommand('+QCSQ', (c) => {
    const l = c.profile.network.qcsq;
    return l === undefined ? undefined : registered(c) ? l : '"NOSERVICE"';
  }),
  '+QINISTAT': lineCommand('+QINISTAT', (c) => {
    const n = c.profile.network.qinistat;
    return n === undefined ? undefined : String(c.sim === 'READY' ? n : 0);
  }),
  '+QSPN': lineCommand('+QSPN', (c) => (c.profile.network.qspn && registered(c) ? `"${OPERATOR}","Test","",0,"${PLMN}"` : undefined)),
  '+QSIMSTAT': (cmd, io, core) => {
    if (!core.profile.network.qspn) return io.error();
    if (cmd.form === 'read') {
      io.info(`+QSIMSTAT: ${core.state.simStatUrc},${core.sim === 'absent' ? 0 : 1}`);
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info('+QSIMSTAT: (0,1)');
      return io.ok();
    }
    const v = cmd.form === 'set' ? intArg(cmd.args, 0, 0, 1) : undefined;
    if (v === undefined || cmd.args.length !== 1) return io.error();
    core.state.simStatUrc = v;
    io.ok();
  },
  '+QCFG': qcfg,
  '+QICFG': (cmd, io, core) => (cmd.form === 'test' ? listing((c) => c.profile.network.qicfgTest)(cmd, io, core) : io.qiError(552)),
  // T19: the EG25-G 01.003 firmware answers ERROR to AT+QNWCFG=?; no profile has a captured list.
  '+QNWCFG': listing((c) => c.profile.network.qnwcfgTest),
  '+QIDNSCFG': (cmd, io, core) => {
    const max = core.profile.maxPdpContext;
    if (cmd.form === 'test') {
      io.info(`+QIDNSCFG: (1-${max}),<pridnsaddr>,<secdnsaddr>`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, max);
    if (cmd.form !== 'set' || id === undefined || cmd.args.length > 3) return io.qiError(552);
    if (cmd.args.length === 1) {
      // S16: the query answered ERROR on a BG96 before AT+QIACT.
      if (!isActive(core, id)) return io.qiError(572);
      const [pri, sec] = core.state.dns.get(id) ?? DNS;
      io.info(`+QIDNSCFG: ${id},"${pri}","${sec}"`);
      return io.ok();
    }
    const pri = strArg(cmd.args, 1);
    const sec = cmd.args.length > 2 ? strArg(cmd.args, 2) : DNS[1];
    if (pri === undefined || sec === undefined) return io.qiError(552);
    core.state.dns.set(id, [pri, sec]);
    io.ok();
  },
};

/** 27.007 packet-domain commands, on every model (the only data path of the NB-IoT BC25). */
export const PACKET_TABLE: CommandTable = {
  '+COPS': (cmd, io, core) => {
    const act = core.profile.network.act;
    if (cmd.form === 'read') {
      io.info(registered(core) ? `+COPS: 0,0,"${OPERATOR}",${act}` : '+COPS: 0');
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info(`+COPS: (2,"${OPERATOR}","Test","${PLMN}",${act}),,(0-4),(0-2)`);
      return io.ok();
    }
    if (cmd.form !== 'set' || intArg(cmd.args, 0, 0, 4) === undefined) return io.error();
    io.ok();
  },
  '+CGDCONT': (cmd, io, core) => {
    const max = core.profile.maxPdpContext;
    if (cmd.form === 'read') {
      for (const id of definedContexts(core)) {
        const c = pdpContext(core, id);
        io.info(`+CGDCONT: ${id},"${PDP_TYPES[c.type - 1] ?? 'IP'}","${c.apn}","0.0.0.0",0,0`);
      }
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info(`+CGDCONT: (1-${max}),("IP","IPV6","IPV4V6"),,,(0-2),(0-4)`);
      return io.ok();
    }
    const id = intArg(cmd.args, 0, 1, max);
    if (cmd.form !== 'set' || id === undefined) return io.error();
    if (cmd.args.length === 1) {
      core.state.pdp.delete(id);
      return io.ok();
    }
    const type = PDP_TYPES.indexOf((strArg(cmd.args, 1) ?? '').toUpperCase() as (typeof PDP_TYPES)[number]);
    const apn = cmd.args.length > 2 ? strArg(cmd.args, 2) : '';
    if (type < 0 || apn === undefined) return io.error();
    Object.assign(pdpContext(core, id), { type: type + 1, apn });
    io.ok();
  },
  '+CGACT': (cmd, io, core) => {
    if (cmd.form === 'read') {
      for (const id of definedContexts(core)) io.info(`+CGACT: ${id},${isActive(core, id) ? 1 : 0}`);
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info('+CGACT: (0,1)');
      return io.ok();
    }
    const on = intArg(cmd.args, 0, 0, 1);
    const id = cmd.args.length > 1 ? intArg(cmd.args, 1, 1, core.profile.maxPdpContext) : 1;
    if (cmd.form !== 'set' || on === undefined || id === undefined) return io.error();
    if (on === 1 && !registered(core)) return io.cme(30);
    const ctx = pdpContext(core, id);
    ctx.active = on === 1;
    ctx.ip = on === 1 ? `10.7.157.${id}` : '';
    io.ok();
  },
  '+CGATT': (cmd, io, core) => {
    if (cmd.form === 'read') {
      io.info(`+CGATT: ${core.state.psAttached && registered(core) ? 1 : 0}`);
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info('+CGATT: (0,1)');
      return io.ok();
    }
    const v = cmd.form === 'set' ? intArg(cmd.args, 0, 0, 1) : undefined;
    if (v === undefined || cmd.args.length !== 1) return io.error();
    core.state.psAttached = v === 1;
    io.ok();
  },
  '+CGPADDR': (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`+CGPADDR: (${definedContexts(core).join(',')})`);
      return io.ok();
    }
    let ids: number[];
    if (cmd.form === 'exec') ids = definedContexts(core);
    else if (cmd.form === 'set') {
      const parsed = cmd.args.map((_, i) => intArg(cmd.args, i, 1, core.profile.maxPdpContext));
      if (parsed.some((n) => n === undefined)) return io.error();
      ids = parsed as number[];
    } else return io.error();
    const q = core.profile.network.quotedAddress ? '"' : '';
    for (const id of ids) io.info(isActive(core, id) ? `+CGPADDR: ${id},${q}${address(core, id)}${q}` : `+CGPADDR: ${id}`);
    io.ok();
  },
};
