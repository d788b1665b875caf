import { AtClient } from 'ussl-bridge/at';

const at = await AtClient.open('emulator:BG96'); // or '/dev/ttyUSB2?baud=115200'
await at.send('ATE0');
console.log((await at.send('AT+CPIN?')).lines[0]); // +CPIN: READY: the dialect knows each command's reply prefix
const caps = await at.send('AT+QSSLCFG=?');
console.log(caps.lines.map((l) => /"(\w+)"/.exec(l)?.[1]).join(' ')); // sslversion ciphersuite … negotiatetime
await at.send('AT+QIACT=1');
const address = new Promise<string>((resolve) => at.onUrc('+QIURC: "dnsgip","', resolve));
await at.send('AT+QIDNSGIP=1,"localhost"'); // OK at once; the result comes later as +QIURC: "dnsgip" URCs
console.log(await address); // +QIURC: "dnsgip","127.0.0.1"
await at.close();
