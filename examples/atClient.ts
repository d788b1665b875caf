import { AtClient } from 'ussl-bridge/at';

const at = await AtClient.open('emulator:BG96'); // or '/dev/ttyUSB2?baud=115200'
// A module that was just powered answers after its RDY, which ends a first command sent during the boot (T08).
await at.send('ATE0').catch(() => at.send('ATE0'));
const off = at.onUrc('+QIURC: "dnsgip"', (line) => console.log(line));
const caps = await at.send('AT+QSSLCFG=?', { expect: ['+QSSLCFG:'] });
console.log(caps.lines.map((l) => /"(\w+)"/.exec(l)?.[1]).join(' ')); // sslversion ciphersuite … negotiatetime
await at.send('AT+QIACT=1');
await at.send('AT+QIDNSGIP=1,"localhost"'); // +QIURC: "dnsgip",0,1,600 then the address, as URCs
await new Promise((resolve) => setTimeout(resolve, 100));
off();
await at.close();
