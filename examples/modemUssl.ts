import { startDemoServers } from 'ussl-bridge/emulator';
import { Modem, type AtTraceEvent } from 'ussl-bridge';

const servers = await startDemoServers(); // myssl.com on loopback, and its CA
let commands = 0;
const count = (e: AtTraceEvent) => void (e.dir === 'out' && e.kind === 'command' && commands++);
const modem = await Modem.open(`emulator:EC25?hosts=${servers.hostsParam}`, { at: { trace: count } });
const options = { server_hostname: 'myssl.com', cadata: servers.pki.ca.cert }; // verify the server against this CA
const costs: number[] = [];
let reply = '';
for (let i = 0; i < 2; i++) {
  commands = 0;
  const sock = await modem.ussl.wrap_socket(modem.usocket.socket(), options);
  await sock.connect(['myssl.com', 443]); // AT+QSSLOPEN directly: the socket was wrapped before it connected
  costs.push(commands);
  await sock.sendall('GET / HTTP/1.0\r\nHost: myssl.com\r\n\r\n');
  reply = (await sock.readline()).toString().trim();
  await sock.close();
}
console.log(`${modem.info.model}: TLS open, ${costs[0]} AT commands the first time, ${costs[1]} the second`);
console.log(reply); // HTTP/1.1 200 OK
await modem.close();
await servers.close();
