import { connect as netConnect } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CIPHER_SUITES } from '../../src/protocol/cipherSuites.js';
import { CLIENT_CN, WRONG_HOST, makePki, type Pki } from './pki.js';
import { startOpensslServer, startTlsEchoServer, type OpensslServer, type TlsEchoServer } from './tlsPeers.js';

let pki: Pki;
const running: Array<TlsEchoServer | OpensslServer> = [];

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function echoServer(...args: Parameters<typeof startTlsEchoServer>): Promise<TlsEchoServer> {
  const server = await startTlsEchoServer(...args);
  running.push(server);
  return server;
}

async function opensslServer(...args: Parameters<typeof startOpensslServer>): Promise<OpensslServer> {
  const server = await startOpensslServer(...args);
  running.push(server);
  return server;
}

/** Connects and resolves after the handshake; rejects with the error that ended it. */
function connect(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Error code of a connection attempt that must fail. */
async function failureCode(port: number, options: ConnectionOptions): Promise<string> {
  const socket = await connect(port, options).catch((e: NodeJS.ErrnoException) => e);
  if (socket instanceof tls.TLSSocket) {
    socket.destroy();
    throw new Error('the connection was expected to fail but succeeded');
  }
  return String(socket.code);
}

/** Writes `payload`, reads until `expectedLength` bytes came back, then ends the connection. */
function exchange(socket: TLSSocket, payload: Uint8Array, expectedLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${length} of ${expectedLength} bytes came back`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= expectedLength) {
        clearTimeout(timer);
        socket.end();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.write(payload);
  });
}

describe('startTlsEchoServer', () => {
  test('echoes every byte value to a client that verifies the server with the CA', async () => {
    const server = await echoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
    const socket = await connect(server.port, { ca: pki.ca.cert, servername: 'localhost' });
    const payload = Buffer.alloc(1024, 0).map((_, i) => i & 0xff);
    expect(await exchange(socket, payload, payload.length)).toEqual(payload);
    expect(server.connections).toBe(1);
    expect(server.lastServername).toBe('localhost');
    expect(server.lastProtocol).toBe('TLSv1.3');
    expect(server.lastCipher).toBe(socket.getCipher().standardName);
    expect(server.failedHandshakes).toBe(0);
  });

  test('negotiates every suite of the table that OpenSSL knows, ECDSA suites on the ECDSA certificate', async () => {
    const server = await echoServer({
      cert: [pki.serverRsa.cert, pki.serverEcdsa.cert],
      key: [pki.serverRsa.key, pki.serverEcdsa.key],
      ciphers: 'ALL:@SECLEVEL=0',
    });
    const mapped = CIPHER_SUITES.filter((s) => s.openssl !== undefined && !s.tls13);
    expect(mapped.length).toBeGreaterThan(40);
    for (const suite of mapped) {
      const socket = await connect(server.port, {
        ca: pki.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers: `${suite.openssl}:@SECLEVEL=0`,
      });
      const keyType = socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType;
      socket.destroy();
      expect({ suite: server.lastCipher, keyType }).toEqual({
        suite: suite.name, keyType: suite.authentication === 'ECDSA' ? 'ec' : 'rsa',
      });
    }
    expect(server.connections).toBe(mapped.length);
  });

  test('sniRequired: a handshake without SNI fails, one with SNI succeeds', async () => {
    const server = await echoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key, sniRequired: true });
    // node sends no SNI when connecting to an IP address without `servername`. Without a certificate the server
    // finds no signature algorithm (TLS 1.3) or no shared cipher (TLS 1.2); both end in alert 40.
    expect(await failureCode(server.port, { ca: pki.ca.cert })).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    expect(server.lastHandshakeError?.message).toMatch(/no suitable signature algorithm/);
    const tls12 = { ca: pki.ca.cert, maxVersion: 'TLSv1.2' } as const;
    expect(await failureCode(server.port, tls12)).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    expect(server.lastHandshakeError?.message).toMatch(/no shared cipher/);
    expect(server.failedHandshakes).toBe(2);
    expect(server.connections).toBe(0);

    const socket = await connect(server.port, { ca: pki.ca.cert, servername: 'myssl.test' });
    expect(await exchange(socket, Buffer.from('ping'), 4)).toEqual(Buffer.from('ping'));
    expect(server.lastServername).toBe('myssl.test');
  });

  test('requestCert: the handshake needs a client certificate from the CA', async () => {
    const server = await echoServer({
      cert: pki.serverRsa.cert, key: pki.serverRsa.key, ca: pki.ca.cert, requestCert: true,
    });
    const base = { ca: pki.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2' } as const;
    // No certificate: OpenSSL itself refuses (alert 40).
    expect(await failureCode(server.port, base)).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    // A certificate the CA did not issue: node lets OpenSSL finish its side, then resets the connection.
    const untrusted = { ...base, cert: pki.selfSignedServer.cert, key: pki.selfSignedServer.key };
    expect(await failureCode(server.port, untrusted)).toBe('ECONNRESET');
    expect(server.failedHandshakes).toBe(2);
    expect(server.connections).toBe(0);
    const socket = await connect(server.port, { ...base, cert: pki.client.cert, key: pki.client.key });
    socket.destroy();
    expect(server.lastClientCN).toBe(CLIENT_CN);
    expect(server.connections).toBe(1);
  });
});

describe('certificate checks of tls.connect against the bad servers', () => {
  test('the expired certificate is reported as CERT_HAS_EXPIRED', async () => {
    const server = await echoServer({ cert: pki.expiredServer.cert, key: pki.expiredServer.key });
    expect(await failureCode(server.port, { ca: pki.ca.cert, servername: 'localhost' })).toBe('CERT_HAS_EXPIRED');
  });

  test('the wrong-host certificate fails the host check, and only that', async () => {
    const server = await echoServer({ cert: pki.wrongHostServer.cert, key: pki.wrongHostServer.key });
    expect(await failureCode(server.port, { ca: pki.ca.cert, servername: 'localhost' }))
      .toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const socket = await connect(server.port, { ca: pki.ca.cert, servername: WRONG_HOST });
    expect(socket.authorized).toBe(true);
    socket.destroy();
  });

  test('the self-signed certificate is not trusted through the CA', async () => {
    const server = await echoServer({ cert: pki.selfSignedServer.cert, key: pki.selfSignedServer.key });
    expect(await failureCode(server.port, { ca: pki.ca.cert, servername: 'localhost' }))
      .toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});

describe('startOpensslServer', () => {
  const clientAuth = (): Parameters<typeof startOpensslServer>[0] => ({
    cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath, CAfile: pki.ca.certPath, verifyClient: true,
  });

  test('with -Verify 1, a client with a certificate from the CA gets its lines back reversed', async () => {
    const server = await opensslServer(clientAuth());
    const socket = await connect(server.port, {
      ca: pki.ca.cert, servername: 'localhost', cert: pki.client.cert, key: pki.client.key,
    });
    const line = Buffer.from('hello ussl\n');
    expect((await exchange(socket, line, line.length)).toString()).toBe('lssu olleh\n');
    const out = await server.waitForOutput('CONNECTION ESTABLISHED');
    expect(out).toMatch(/Peer certificate: CN = ussl-client/);
  });

  test('with -Verify 1, TLS 1.2 without a client certificate fails in the handshake', async () => {
    const server = await opensslServer(clientAuth());
    const code = await failureCode(server.port, { ca: pki.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2' });
    // OpenSSL 3.0 sends a handshake_failure alert (40) in TLS 1.2; TLS 1.3 would send certificate_required (116)
    // after the client already saw its handshake complete.
    expect(code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    const out = await server.waitForOutput('peer did not return a certificate');
    expect(out).toMatch(/CONNECTION FAILURE/);
    // s_server goes on accepting after a failed handshake.
    const socket = await connect(server.port, {
      ca: pki.ca.cert, servername: 'localhost', cert: pki.client.cert, key: pki.client.key,
    });
    expect((await exchange(socket, Buffer.from('ab\n'), 3)).toString()).toBe('ba\n');
  });

  test('TLS 1.0 works only when the server runs at @SECLEVEL=0', async () => {
    const client = {
      ca: pki.ca.cert, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    } as const;
    const strict = await opensslServer({ cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath, tls: '1.0' });
    expect(await failureCode(strict.port, client)).toBe('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
    await strict.waitForOutput('no suitable signature algorithm');

    const legacy = await opensslServer({
      cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath, tls: '1.0', cipher: 'DEFAULT:@SECLEVEL=0',
    });
    const socket = await connect(legacy.port, client);
    expect(socket.getProtocol()).toBe('TLSv1');
    expect((await exchange(socket, Buffer.from('tls1\n'), 5)).toString()).toBe('1slt\n');
  });

  test('serves one named suite', async () => {
    const server = await opensslServer({
      cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath, cipher: 'AES256-SHA', tls: '1.2',
    });
    const socket = await connect(server.port, { ca: pki.ca.cert, servername: 'localhost' });
    expect(socket.getCipher().standardName).toBe('TLS_RSA_WITH_AES_256_CBC_SHA');
    socket.destroy();
    expect(await failureCode(server.port, { ca: pki.ca.cert, servername: 'localhost', ciphers: 'AES128-SHA' }))
      .toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  test('close stops the process: the port refuses connections afterwards', async () => {
    const server = await startOpensslServer({ cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath });
    await server.close();
    await server.close();
    const code = await new Promise<string>((resolve) => {
      const s = netConnect(server.port, '127.0.0.1', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
    });
    expect(code).toBe('ECONNREFUSED');
  });

  test('a server that cannot start rejects with its output', async () => {
    await expect(startOpensslServer({ cert: pki.serverRsa.certPath, key: pki.ca.certPath }))
      .rejects.toThrow(/exited[\s\S]*key/i);
  });
});
