/**
 * The servers the demo and the ported examples talk to through a virtual module, on 127.0.0.1: `myssl.com` (the
 * seed's server), an HTTPS server that asks for a client certificate without requiring one and says whom it saw,
 * and `mtls.myssl.com`, one that requires a client certificate from the demo CA. `hostsParam` is the `hosts` option
 * of an `emulator:` URL that points the names at them.
 */
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { makeDemoPki, type DemoPki } from './demoPki.js';

/** One running server. */
export interface DemoServer {
  readonly name: string;
  readonly port: number;
  /** The client certificate subject (CN) of the latest request, `undefined` for none. */
  readonly lastClient: string | undefined;
  /** Handshakes the server refused (no or a bad client certificate). */
  readonly refused: number;
}

export interface DemoServers {
  readonly pki: DemoPki;
  readonly oneWay: DemoServer;
  readonly twoWay: DemoServer;
  /** Name → `127.0.0.1:<port>`, a virtual module's `hosts` table. */
  readonly hosts: Readonly<Record<string, string>>;
  /** The same as an `emulator:` URL's `hosts` option: `myssl.com=127.0.0.1:40123,mtls.myssl.com=…`. */
  readonly hostsParam: string;
  close(): Promise<void>;
}

async function start(name: string, pki: DemoPki, requireClient: boolean): Promise<{ server: Server; state: DemoServer }> {
  const state = { name, port: 0, lastClient: undefined as string | undefined, refused: 0 };
  const server = createServer({
    cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: requireClient,
  }, (req, res) => {
    const sock = req.socket as TLSSocket;
    const cn = sock.authorized ? sock.getPeerCertificate().subject?.CN : undefined;
    state.lastClient = Array.isArray(cn) ? cn[0] : cn;
    const body = `Hello from ${name}: TLS ${sock.getProtocol()}, ${sock.getCipher().standardName}, client ${state.lastClient ?? 'anonymous'}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
  server.on('tlsClientError', () => state.refused++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  return { server, state };
}

/** Makes the demo PKI and starts both servers. */
export async function startDemoServers(): Promise<DemoServers> {
  const pki = await makeDemoPki(['myssl.com', 'mtls.myssl.com', 'localhost']);
  const one = await start('myssl.com', pki, false);
  const two = await start('mtls.myssl.com', pki, true);
  const hosts = { 'myssl.com': `127.0.0.1:${one.state.port}`, 'mtls.myssl.com': `127.0.0.1:${two.state.port}` };
  return {
    pki, oneWay: one.state, twoWay: two.state, hosts,
    hostsParam: Object.entries(hosts).map(([k, v]) => `${k}=${v}`).join(','),
    close: async () => {
      for (const { server } of [one, two]) {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    },
  };
}
