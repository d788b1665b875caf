// One HTTPS request in each access mode, read to the end: the reply, and the AT commands the exchange cost after
// the open. Transparent mode holds the port alone, so URCs go to the module's other USB interface meanwhile.
import { startDemoServers } from 'ussl-bridge/emulator';
import { Modem, type AtTraceEvent } from 'ussl-bridge';

const servers = await startDemoServers();
let commands = 0;
const count = (e: AtTraceEvent) => void (e.dir === 'out' && e.kind === 'command' && commands++);
const modem = await Modem.open(`emulator:EC25?hosts=${servers.hostsParam}`, { dataModeUrcPort: 'usbmodem', at: { trace: count } });
for (const receive of ['buffer', 'push', 'transparent'] as const) {
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: 'myssl.com', receive });
  await sock.connect(['myssl.com', 443]);
  commands = 0;
  await sock.sendall('GET / HTTP/1.0\r\nHost: myssl.com\r\n\r\n');
  const reply = await sock.read(); // to the end: the server closes (in transparent mode the module says NO CARRIER)
  await sock.close();
  console.log(`${receive}: ${reply.toString().split('\r\n')[0]}, ${commands} AT commands`);
}
await modem.close();
await servers.close();
