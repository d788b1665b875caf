/**
 * A one-number setting (`AT+CMEE`, `AT+QISDE`): `?` reads it, `=?` lists its range, `=<n>` sets it.
 */
import type { CommandHandler, ModuleCore } from '../ModuleCore.js';
import { intArg } from '../parseCommandLine.js';

export function intSetting(
  name: string, max: number, get: (core: ModuleCore) => number, set: (core: ModuleCore, value: number) => void,
): CommandHandler {
  return (cmd, io, core) => {
    if (cmd.form === 'read' || cmd.form === 'test') {
      io.info(`${name}: ${cmd.form === 'read' ? get(core) : max === 1 ? '(0,1)' : `(0-${max})`}`);
      return io.ok();
    }
    const v = intArg(cmd.args, 0, 0, max);
    if (cmd.form !== 'set' || v === undefined || cmd.args.length !== 1) return io.error();
    set(core, v);
    io.ok();
  };
}
