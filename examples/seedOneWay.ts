// The seed's first example (one-way authentication), ported from QuecPython line by line: each call gains an
// `await`, `socket_log.info` is `console.log`. Without USSL_PORT a virtual module stands in for the real one, and
// myssl.com is a local HTTPS server it resolves to.
import { startDemoServers } from 'ussl-bridge/emulator';
import { attach, detach, usocket, ussl } from 'ussl-bridge/quecpython';

const servers = await startDemoServers();
await attach(process.env.USSL_PORT ?? `emulator:EC25?hosts=${servers.hostsParam}`);

// Create a socket instance.
const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
// Resolve a domain name.
const sockaddr = (await usocket.getaddrinfo('myssl.com', 443))[0]![4];
// Set up a connection.
await sock.connect(sockaddr);
// Create Secure Channel over SSL, supported by the server.
const ssock = await ussl.wrap_socket(sock, { server_hostname: 'myssl.com' });
// Send messages to the server.
const ret = await ssock.write('GET / HTTP/1.0\r\nHost: myssl.com\r\nAccept-Encoding: deflate\r\n\r\n');
console.log(`write ${ret} bytes`);
// Receive the messages from the server.
const data = await ssock.read(256);
console.log(`read ${data.length} bytes:`);
console.log(data.toString());
// Close the connection.
await ssock.close();
console.log('--------------------Socket Ussl End-------------------');

await detach();
await servers.close();
