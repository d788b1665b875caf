/**
 * Talk raw AT to a virtual BG96 in-process: boot, identify, upload a file and read back its checksum.
 * `npm test` type-checks this file and runs it (test/examples.test.ts), so the README's copy stays true.
 */
import { RawAtSession, VirtualModule, linkOf } from '../src/emulator/index.js';

export async function main(print: (line: string) => void = console.log): Promise<string[]> {
  const module = new VirtualModule({ model: 'BG96' });
  const at = new RawAtSession(linkOf(module));
  try {
    await at.waitUrc(/^RDY$/);
    await at.send('ATE0');
    const ati = await at.send('ATI');
    print(ati.lines.join(' | '));
    const upload = await at.send('AT+QFUPL="test1.txt",10', Buffer.from('1234567890'));
    print(upload.lines.join(' | ')); // +QFUPL: 10,3938 | OK
    return [...ati.lines, ...upload.lines];
  } finally {
    module.dispose();
  }
}
