import { RawAtSession, VirtualModule, linkOf } from 'ussl-bridge/emulator';

const module = new VirtualModule({ model: 'BG96' });
const at = new RawAtSession(linkOf(module)); // the host attaches: the module powers on
await at.waitUrc(/^RDY$/);
await at.send('ATE0');
const upload = await at.send('AT+QFUPL="test1.txt",10', Buffer.from('1234567890'));
console.log(upload.lines.join(' | ')); // +QFUPL: 10,3938 | OK
module.dispose();
