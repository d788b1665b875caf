import { request } from 'node:https';
import { startDemoServers } from 'ussl-bridge/emulator';
import { Modem, connectTls } from 'ussl-bridge';

const servers = await startDemoServers();
const modem = await Modem.open(`emulator:EC25?hosts=${servers.hostsParam}`);
// Node's own https client; the TLS is the module's, so the request sees a plain stream.
const req = request({
  host: 'myssl.com', port: 443, path: '/',
  createConnection: () => connectTls(modem, { host: 'myssl.com', port: 443, cadata: servers.pki.ca.cert }),
}, (res) => {
  let body = '';
  res.on('data', (d: Buffer) => (body += d.toString()));
  res.on('end', () => console.log(res.statusCode, body.trim())); // 200 Hello from myssl.com: TLS TLSv1.2, …
});
req.on('close', async () => {
  await modem.close();
  await servers.close();
});
req.end();
