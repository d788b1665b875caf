/**
 * Runs one command line the module took: basic commands (`ATE0`, `AT&FZE0`), S registers, then the model's table.
 */
import { BASIC_COMMANDS } from './commands/index.js';
import type { CommandTable, ModuleCore, ResponseWriter } from './ModuleCore.js';
import { parseCommandLine } from './parseCommandLine.js';

export async function dispatchCommand(line: string, io: ResponseWriter, core: ModuleCore, commands: CommandTable): Promise<void> {
  const text = line.trim();
  if (text === '') return; // an empty line: nothing but its echo
  if (!/^at/i.test(text)) return; // modules ignore text that is no command
  const basic = /^at((?:&?[a-z]\d*)+)$/i.exec(text);
  if (basic) return BASIC_COMMANDS.run(basic[1]!, io, core);
  if (/^atS\d+(=\d+|\?)$/i.test(text)) return io.ok(); // S registers: taken, not modelled
  const cmd = parseCommandLine(text);
  const handler = cmd && commands[cmd.name];
  if (!cmd || !handler) return io.error();
  // AT+QIGETERROR reports the last TCP/IP or SSL command (S1 §5): each one starts from "operate successfully".
  if (/^\+Q(I|SSL)/.test(cmd.name) && cmd.name !== '+QIGETERROR') core.state.lastQiError = 0;
  await handler(cmd, io, core);
}
