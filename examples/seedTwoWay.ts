// The seed's second example (two-way authentication): a new socket, wrapped with a client certificate and its
// key as PEM strings. Here they come from the demo's in-process PKI; the server reports the subject it saw.
import { startDemoServers } from 'ussl-bridge/emulator';
import { attach, detach, usocket, ussl } from 'ussl-bridge/quecpython';

const servers = await startDemoServers();
await attach(process.env.USSL_PORT ?? `emulator:EC25?hosts=${servers.hostsParam}`);

const cert = servers.pki.client.cert; // "Certificate"
const key = servers.pki.client.key; // "Private Key"
const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
await sock.connect((await usocket.getaddrinfo('myssl.com', 443))[0]![4]);
const ssock = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com', cert, key });
await ssock.write('GET / HTTP/1.0\r\nHost: myssl.com\r\n\r\n');
console.log((await ssock.read()).toString().split('\r\n\r\n')[1]); // Hello from myssl.com: … client ussl-bridge demo client
await ssock.close();

await detach();
await servers.close();
