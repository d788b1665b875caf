/**
 * Bring a module up with the connection machine and talk to it: here a virtual EC25 in-process; give a device path
 * or URL (`'/dev/ttyUSB2?baud=115200'`, `'socket://rig:7000'`) instead for a real one.
 * `npm test` runs this file (test/examples.test.ts).
 */
import { VirtualModule } from '../src/emulator/index.js';
import { Modem } from '../src/index.js';

export async function main(print: (line: string) => void = console.log): Promise<string> {
  const module = new VirtualModule({ model: 'EC25' });
  const modem = await Modem.open(module, { apn: { apn: 'internet' } });
  try {
    print(`${modem.info.model} ${modem.info.firmware}, ${modem.state}, address ${modem.ip}`);
    const { lines } = await modem.send('AT+QSSLCFG="sslversion",1', { expect: ['+QSSLCFG:'] });
    print(lines[0]!); // +QSSLCFG: "sslversion",1,4
    return lines[0]!;
  } finally {
    await modem.close();
    module.dispose();
  }
}
