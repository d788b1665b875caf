/**
 * HTTPS servers for the ussl tests, on 127.0.0.1: one that answers any request (one-way TLS), and one that
 * requires a client certificate from the test CA and answers with the subject it saw (two-way).
 */
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Pki } from './pki.js';

export interface HttpsPeer {
  readonly port: number;
  /** Handshakes the server refused (no or a bad client certificate). */
  readonly refused: number;
  close(): Promise<void>;
}

async function listen(server: Server, refusedCount: () => number): Promise<HttpsPeer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get refused() {
      return refusedCount();
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** Answers every request with `200` and a body of `size` bytes that starts with a greeting. */
export function startHttpsServer(pki: Pki, size = 1024): Promise<HttpsPeer> {
  const server = createServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (req, res) => {
    const head = `Hello from ${req.headers.host ?? 'nowhere'} (${req.method} ${req.url})\n`;
    const body = Buffer.alloc(Math.max(size, head.length), 0x2e);
    body.write(head);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, connection: 'close' });
    res.end(body);
  });
  return listen(server, () => 0);
}

/** Requires a client certificate issued by the test CA; answers with `client: <subject CN>`. */
export function startMutualTlsServer(pki: Pki): Promise<HttpsPeer> {
  let refused = 0;
  const server = createServer({
    cert: pki.serverRsa.cert, key: pki.serverRsa.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true,
  }, (req, res) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '(none)';
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`client: ${cn}\n`);
  });
  server.on('tlsClientError', () => refused++);
  return listen(server, () => refused);
}
