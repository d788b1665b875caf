import { Modem } from 'ussl-bridge';

// A virtual EC25 here; a real module is a device path or URL: '/dev/ttyUSB2?baud=115200', 'socket://rig:7000'.
const modem = await Modem.open('emulator:EC25', { apn: { apn: 'internet' } });
console.log(modem.info.model, modem.state, modem.ip); // EC25 connected.ready 10.7.157.1
const { lines } = await modem.send('AT+QSSLCFG="sslversion",1', { expect: ['+QSSLCFG:'] });
console.log(lines[0]); // +QSSLCFG: "sslversion",1,4
await modem.close();
