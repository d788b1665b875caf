/**
 * General commands: V.25ter basic commands (`ATE0`, `ATI`, `AT&F`…), identification, SIM, registration, clock,
 * functionality and power (quectel-at.md §1.1, §7.1, §8).
 */
import type { CommandTable, ModuleCore, ResponseWriter } from '../ModuleCore.js';
import { intArg, strArg } from '../parseCommandLine.js';
import { intSetting } from './intSetting.js';

/** Basic commands, which may be chained on one line (`AT&FZE0`, T04); one `OK` ends the line. */
export const BASIC_COMMANDS = {
  run(sequence: string, io: ResponseWriter, core: ModuleCore): void {
    const tokens = sequence.match(/&?[A-Za-z]\d*/g) ?? [];
    for (const token of tokens) {
      const m = /^(&?[A-Za-z])(\d*)$/.exec(token)!;
      const name = m[1]!.toUpperCase();
      const value = m[2] === '' ? 0 : Number(m[2]);
      switch (name) {
        case 'E':
          if (value > 1) return io.error();
          core.state.echo = value === 1;
          break;
        case 'I':
          for (const line of core.profile.ati) io.info(line);
          break;
        case '&F':
        case 'Z':
          // Factory profile (BG96 AT&F table, S4): E1, V1, +CMEE 1.
          core.state.echo = true;
          core.state.cmee = 1;
          break;
        case 'O':
          // ATO: back to transparent mode (§5.2); CONNECT or NO CARRIER is its result.
          return core.resumeDataMode(io);
        case 'V':
        case 'Q':
        case '&D':
        case '&C':
        case '&W':
        case 'X':
          break;
        default:
          return io.error();
      }
    }
    io.ok();
  },
};

const pad = (n: number) => String(n).padStart(2, '0');

/** `yy/MM/dd,hh:mm:ss±zz` (zz in quarter hours), the `+CCLK` format. */
function formatClock(date: Date, tzQuarters: number): string {
  const local = new Date(date.getTime() + tzQuarters * 15 * 60_000);
  const tz = `${tzQuarters < 0 ? '-' : '+'}${pad(Math.abs(tzQuarters))}`;
  return `${pad(local.getUTCFullYear() % 100)}/${pad(local.getUTCMonth() + 1)}/${pad(local.getUTCDate())},` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${tz}`;
}

function parseClock(text: string): { date: Date; tz: number } | undefined {
  const m = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-])(\d\d)$/.exec(text);
  if (!m) return undefined;
  const [, yy, mo, dd, hh, mi, ss, sign, zz] = m;
  const tz = (sign === '-' ? -1 : 1) * Number(zz);
  const utc = Date.UTC(2000 + Number(yy), Number(mo) - 1, Number(dd), Number(hh), Number(mi), Number(ss));
  if (Number.isNaN(utc) || Number(mo) < 1 || Number(mo) > 12 || Math.abs(tz) > 96) return undefined;
  return { date: new Date(utc - tz * 15 * 60_000), tz };
}

/** A registration query: `+CREG: <n>,<stat>`, with `<n>` as last set (module state, reset at boot). */
function registrationCommand(prefix: string): CommandTable[string] {
  return (cmd, io, core) => {
    if (cmd.form === 'read') {
      io.info(`${prefix}: ${core.state.registrationUrcMode.get(prefix) ?? 0},${core.registration()}`);
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info(`${prefix}: (0-2)`);
      return io.ok();
    }
    const v = cmd.form === 'set' ? intArg(cmd.args, 0, 0, 4) : undefined;
    if (v === undefined) return io.error();
    core.state.registrationUrcMode.set(prefix, v);
    io.ok();
  };
}

const fixed = (lines: (core: ModuleCore) => readonly string[]): CommandTable[string] => (cmd, io, core) => {
  if (cmd.form === 'test') return io.ok();
  if (cmd.form !== 'exec') return io.error();
  for (const l of lines(core)) io.info(l);
  io.ok();
};

export const BASIC_TABLE: CommandTable = {
  '': (_cmd, io) => io.ok(),
  '+CMEE': intSetting('+CMEE', 2, (c) => c.state.cmee, (c, v) => { c.state.cmee = v as 0 | 1 | 2; }),
  '+CGMM': fixed((c) => [c.profile.cgmm]),
  '+GMM': fixed((c) => [c.profile.cgmm]),
  '+CGMR': fixed((c) => [c.profile.revision]),
  '+GMR': fixed((c) => [c.profile.revision]),
  '+QGMR': fixed((c) => [c.profile.qgmr]),
  '+GSN': fixed((c) => [c.imei]),
  '+CGSN': fixed((c) => [c.imei]),
  '+CGMI': fixed((c) => [c.profile.ati[0]!]),
  '+GMI': fixed((c) => [c.profile.ati[0]!]),
  '+CPIN': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    if (cmd.form !== 'read') return io.error();
    if (core.sim === 'absent') return io.cme(10);
    io.info(core.sim === 'PIN' ? '+CPIN: SIM PIN' : '+CPIN: READY');
    io.ok();
  },
  '+CREG': registrationCommand('+CREG'),
  '+CGREG': registrationCommand('+CGREG'),
  '+CEREG': registrationCommand('+CEREG'),
  // Character set and SMS format: only read here (hosts use them as harmless queries).
  '+CSCS': (cmd, io) => {
    if (cmd.form !== 'read') return cmd.form === 'test' ? (io.info('+CSCS: ("GSM","IRA","UCS2")'), io.ok()) : io.ok();
    io.info('+CSCS: "GSM"');
    io.ok();
  },
  '+CMGF': (cmd, io) => {
    if (cmd.form !== 'read') return cmd.form === 'test' ? (io.info('+CMGF: (0,1)'), io.ok()) : io.ok();
    io.info('+CMGF: 0');
    io.ok();
  },
  '+CSQ': fixed((c) => [c.registration() === 1 || c.registration() === 5 ? '+CSQ: 24,99' : '+CSQ: 99,99']),
  '+CCLK': (cmd, io, core) => {
    if (cmd.form === 'read') {
      io.info(`+CCLK: "${formatClock(core.now(), core.tzQuarters)}"`);
      return io.ok();
    }
    if (cmd.form === 'test') return io.ok();
    const text = strArg(cmd.args, 0);
    const parsed = text === undefined ? undefined : parseClock(text);
    if (cmd.form !== 'set' || !parsed) return io.cme(3);
    core.setClock(parsed.date, parsed.tz);
    io.ok();
  },
  '+CFUN': (cmd, io, core) => {
    if (cmd.form === 'read') {
      io.info(`+CFUN: ${core.state.cfun}`);
      return io.ok();
    }
    if (cmd.form === 'test') {
      io.info('+CFUN: (0,1,4),(0,1)');
      return io.ok();
    }
    const fun = intArg(cmd.args, 0, 0, 4);
    const rst = cmd.args.length > 1 ? intArg(cmd.args, 1, 0, 1) : 0;
    if (cmd.form !== 'set' || fun === undefined || fun === 2 || fun === 3 || rst === undefined) return io.error();
    io.ok();
    if (rst === 1) return core.reboot();
    core.state.cfun = fun;
  },
  '+QPOWD': (cmd, io, core) => {
    const mode = cmd.form === 'set' ? intArg(cmd.args, 0, 0, 1) : cmd.form === 'exec' ? 1 : undefined;
    if (mode === undefined) return io.error();
    io.ok();
    core.powerDown();
  },
  '+QURCCFG': (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info('+QURCCFG: "urcport",("usbat","usbmodem","uart1")');
      return io.ok();
    }
    if (cmd.form !== 'set' || strArg(cmd.args, 0)?.toLowerCase() !== 'urcport') return io.error();
    const port = strArg(cmd.args, 1);
    if (cmd.args.length === 1) {
      io.info(`+QURCCFG: "urcport","${core.state.urcPort}"`);
      return io.ok();
    }
    if (port !== 'usbat' && port !== 'usbmodem' && port !== 'uart1') return io.error();
    core.state.urcPort = port;
    io.ok();
  },
};
