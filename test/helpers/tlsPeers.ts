/**
 * TLS servers for tests to talk to: an in-process node:tls echo server, and `openssl s_server` as an independent
 * implementation. Both listen on 127.0.0.1 only.
 *
 * OpenSSL 3.0 facts these helpers rely on (checked with OpenSSL 3.0.19, the CLI and node 20's bundled library):
 * - TLS 1.0/1.1 need `@SECLEVEL=0` in the server's cipher string whatever the suite (otherwise the server fails
 *   with "no suitable signature algorithm" and sends internal_error). A client needs it too for (EC)DHE suites
 *   (`ERR_SSL_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED`); plain RSA key exchange works at its default level.
 *   Neither helper adds it: pass `ciphers`/`cipher: 'DEFAULT:@SECLEVEL=0'`.
 * - RC4 and 3DES suites do not exist in these builds (no `enable-weak-ssl-ciphers`), at any security level.
 * - `-legacy_renegotiation` is not needed between node and s_server: both do RFC 5746.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { AddressInfo, Socket } from 'node:net';
import tls, { type SecureContextOptions, type SecureVersion } from 'node:tls';
import { afterAll, beforeAll } from 'vitest';
import { makePki } from './pki.js';

/** Options of {@link startTlsEchoServer}. */
export interface TlsEchoServerOptions {
  /** Server certificate(s), PEM. Several (RSA and ECDSA) let the client's suite pick one. */
  readonly cert: SecureContextOptions['cert'];
  /** Private key(s) matching `cert`. */
  readonly key: SecureContextOptions['key'];
  /** CAs trusted for client certificates. Default: node's bundled roots. */
  readonly ca?: SecureContextOptions['ca'];
  /**
   * Ask for a client certificate and refuse clients without a valid one. Default: false.
   * No certificate: OpenSSL fails the handshake with alert 40. A certificate `ca` did not issue: OpenSSL completes
   * its side, then node resets the connection (a TLS 1.2 client sees `ECONNRESET` before its handshake ends).
   * Both count in {@link TlsEchoServer.failedHandshakes}.
   */
  readonly requestCert?: boolean;
  /** Default: node's (TLSv1.2). TLS 1.0/1.1 also need `ciphers` with `@SECLEVEL=0`. */
  readonly minVersion?: SecureVersion;
  /** Default: node's (TLSv1.3). */
  readonly maxVersion?: SecureVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2. Default: node's default list. */
  readonly ciphers?: string;
  /**
   * Fail handshakes that carry no SNI, the way servers behind a shared address do: the server then has no
   * certificate to offer, so the client gets a handshake_failure alert. Default: false.
   */
  readonly sniRequired?: boolean;
}

/** A running {@link startTlsEchoServer}. The `last*` fields describe the latest completed handshake. */
export interface TlsEchoServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Completed handshakes so far. */
  readonly connections: number;
  /** Handshakes that failed on the server side (node's `tlsClientError`). */
  readonly failedHandshakes: number;
  /** The SNI the client sent, `undefined` when it sent none. */
  readonly lastServername: string | undefined;
  /** IANA name of the negotiated suite (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`), as `CipherSuite.name` holds. */
  readonly lastCipher: string | undefined;
  /** Negotiated protocol (`TLSv1.2`). */
  readonly lastProtocol: string | undefined;
  /** Subject CN of the client certificate, when the client sent one. */
  readonly lastClientCN: string | undefined;
  /** The error of the latest failed handshake. */
  readonly lastHandshakeError: Error | undefined;
  /** Drops every connection and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a node:tls server on 127.0.0.1 and an ephemeral port that writes every received byte back unchanged and
 * ends its side when the client ends. DHE suites work: the server uses `dhparam: 'auto'` (2048-bit group).
 */
export async function startTlsEchoServer(options: TlsEchoServerOptions): Promise<TlsEchoServer> {
  const contextOptions: tls.SecureContextOptions = {
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    ciphers: options.ciphers,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    dhparam: 'auto',
  };
  const requestCert = options.requestCert ?? false;
  let serverOptions: tls.TlsOptions;
  if (options.sniRequired) {
    // No default certificate: only a ClientHello with a server_name gets one, through SNICallback.
    const context = tls.createSecureContext(contextOptions);
    const { cert: _cert, key: _key, ...rest } = contextOptions;
    serverOptions = { ...rest, requestCert, SNICallback: (_name, cb) => cb(null, context) };
  } else {
    serverOptions = { ...contextOptions, requestCert };
  }

  let connections = 0;
  let failedHandshakes = 0;
  let lastServername: string | undefined;
  let lastCipher: string | undefined;
  let lastProtocol: string | undefined;
  let lastClientCN: string | undefined;
  let lastHandshakeError: Error | undefined;
  const sockets = new Set<Socket>();

  const server = tls.createServer(serverOptions, (socket) => {
    connections += 1;
    lastServername = typeof socket.servername === 'string' ? socket.servername : undefined;
    lastCipher = socket.getCipher().standardName;
    lastProtocol = socket.getProtocol() ?? undefined;
    const cn = requestCert ? socket.getPeerCertificate().subject?.CN : undefined;
    lastClientCN = typeof cn === 'string' ? cn : undefined;
    socket.on('error', () => undefined); // a client that resets is not the server's failure
    socket.pipe(socket);
  });
  server.on('tlsClientError', (err) => {
    failedHandshakes += 1;
    lastHandshakeError = err;
  });
  const address = await listenOnLoopback(server, sockets, 'TLS echo server');

  let closing: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() { return connections; },
    get failedHandshakes() { return failedHandshakes; },
    get lastServername() { return lastServername; },
    get lastCipher() { return lastCipher; },
    get lastProtocol() { return lastProtocol; },
    get lastClientCN() { return lastClientCN; },
    get lastHandshakeError() { return lastHandshakeError; },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Byte `i` of the stream {@link startTlsSourceServer} sends: no period a 1500-byte chunking could hide a slip in. */
export function sourceByte(i: number): number {
  return Math.imul(i, 2654435761) >>> 24;
}

/** Bytes `from` to `from + n - 1` of the source stream. */
export function sourceBytes(from: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let k = 0; k < n; k++) b[k] = sourceByte(from + k);
  return b;
}

/** A running {@link startTlsSourceServer}. */
export interface TlsSourceServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Drops every connection and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A node:tls server on 127.0.0.1 for receive tests: `DOWN <n>\n` makes it write the next `n` bytes of the source
 * stream ({@link sourceBytes}, counted from the connection's first byte) as fast as the connection takes them;
 * `BYE\n` makes it end its side once they are written.
 */
export async function startTlsSourceServer(options: { readonly cert: string; readonly key: string }): Promise<TlsSourceServer> {
  const sockets = new Set<Socket>();
  const server = tls.createServer({ cert: options.cert, key: options.key }, (socket) => {
    socket.on('error', () => undefined);
    let sent = 0;
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const [verb, arg] = text.slice(0, nl).split(' ');
        text = text.slice(nl + 1);
        if (verb === 'BYE') socket.end();
        else if (verb === 'DOWN') {
          const n = Number(arg);
          for (let off = 0; off < n; off += 16_384) socket.write(sourceBytes(sent + off, Math.min(16_384, n - off)));
          sent += n;
        }
      }
    });
  });
  const address = await listenOnLoopback(server, sockets, 'TLS source server');
  let closing: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: address.port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Options of {@link startOpensslServer}. Paths are file paths, e.g. from `makePki()`. */
export interface OpensslServerOptions {
  /** Server certificate file (`-cert`). */
  readonly cert: string;
  /** Its key file (`-key`). */
  readonly key: string;
  /** CAs for client certificates and the chain (`-CAfile`). Default: none. */
  readonly CAfile?: string;
  /** Require a client certificate (`-Verify 1`); give `CAfile` too so a good one verifies. Default: false. */
  readonly verifyClient?: boolean;
  /** TLS ≤ 1.2 cipher list (`-cipher`), e.g. `'AES256-SHA:@SECLEVEL=0'`. Default: OpenSSL's. */
  readonly cipher?: string;
  /** TLS 1.3 suites (`-ciphersuites`). Default: OpenSSL's. */
  readonly ciphersuites?: string;
  /** Only this protocol version (`-tls1`, `-tls1_1`, `-tls1_2`, `-tls1_3`). Default: any OpenSSL allows. */
  readonly tls?: '1.0' | '1.1' | '1.2' | '1.3';
  /** More `s_server` arguments, appended last. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for `ACCEPT`. Default: 10000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running {@link startOpensslServer}. */
export interface OpensslServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The `openssl` arguments used. */
  readonly args: readonly string[];
  /** Everything s_server wrote so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /**
   * Resolves with the output once it matches `pattern`.
   * @throws Error when the timeout passes (default 5000 ms) or s_server exits first; the message holds the output.
   */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Stops s_server (SIGTERM, SIGKILL after 2 s) and waits for it to exit. Safe to call twice. */
  close(): Promise<void>;
}

const TLS_FLAGS = { '1.0': '-tls1', '1.1': '-tls1_1', '1.2': '-tls1_2', '1.3': '-tls1_3' } as const;

const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let endHookInstalled = false;

/**
 * Kills s_server processes nobody closed when this process ends: on `exit`, and on SIGTERM/SIGINT/SIGHUP, because
 * vitest stops its fork workers with SIGTERM, whose default action skips `exit` handlers.
 */
function killLeftoversAtProcessEnd(): void {
  if (endHookInstalled) return;
  endHookInstalled = true;
  const killAll = (): void => {
    for (const child of liveChildren) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const onSignal = (signal: NodeJS.Signals): void => {
    killAll();
    // Nobody else handles the signal: raise it again so its default action ends the process as intended.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, onSignal);
}

/**
 * Spawns `openssl s_server` in `-rev` mode on 127.0.0.1 and waits until it accepts.
 *
 * Mode: `-rev` answers each newline-terminated line with the same line reversed (`"abc\n"` → `"cba\n"`) and
 * serves any number of connections, one after another. That proves data flowed both ways through the TLS layer,
 * which `-www` (one HTTP status page) and the plain mode (relays stdin) do less simply.
 *
 * Port: s_server is told `-accept 127.0.0.1:0`; OpenSSL 3 then binds an ephemeral port and prints
 * `ACCEPT 127.0.0.1:<port>`, so there is no window in which another process can take a port picked beforehand.
 *
 * On failures s_server keeps running and prints, e.g. for `-Verify 1` and a client without certificate,
 * `CONNECTION FAILURE` and `...:tls_process_client_certificate:peer did not return a certificate:...`.
 * @throws Error when `openssl` cannot start, exits early, or prints no `ACCEPT` in time; the message holds its output.
 */
export async function startOpensslServer(options: OpensslServerOptions): Promise<OpensslServer> {
  const args = [
    's_server', '-accept', '127.0.0.1:0', '-cert', options.cert, '-key', options.key,
    ...(options.CAfile !== undefined ? ['-CAfile', options.CAfile] : []),
    ...(options.verifyClient ? ['-Verify', '1'] : []),
    ...(options.cipher !== undefined ? ['-cipher', options.cipher] : []),
    ...(options.ciphersuites !== undefined ? ['-ciphersuites', options.ciphersuites] : []),
    ...(options.tls !== undefined ? [TLS_FLAGS[options.tls]] : []),
    '-rev',
    ...(options.extraArgs ?? []),
  ];

  // stdin stays an open pipe: in modes that read it, EOF on stdin could end s_server.
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  killLeftoversAtProcessEnd();

  let out = '';
  let ended: Error | undefined;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  // 'close' rather than 'exit': it comes after the last output chunk.
  const exited = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      ended ??= new Error(`openssl s_server exited (${signal ?? code})`);
      resolve();
    });
    child.once('error', (err) => {
      ended = err;
      resolve();
    });
  }).finally(() => {
    liveChildren.delete(child);
    notify();
  });
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    notify();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const waitForOutput = (pattern: string | RegExp, timeoutMs = 5000): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const matches = (): boolean => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(out);
      };
      const check = (): void => {
        if (matches()) finish();
        else if (ended) finish(new Error(`${ended.message} before printing ${String(pattern)}; output:\n${out}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`no ${String(pattern)} from openssl s_server within ${timeoutMs} ms; output:\n${out}`)),
        timeoutMs,
      );
      waiters.add(check);
      check();
    });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(hard);
      }
      child.stdin.destroy();
    })();
    return closing;
  };

  let port: number;
  try {
    const text = await waitForOutput(/^ACCEPT 127\.0\.0\.1:(\d+)\s*$/m, options.startTimeoutMs ?? 10_000);
    port = Number(/^ACCEPT 127\.0\.0\.1:(\d+)\s*$/m.exec(text)![1]);
  } catch (e) {
    await close();
    throw e;
  }

  return { host: '127.0.0.1', port, args, output: () => out, waitForOutput, close };
}

/** Listens on a free loopback port, tracking the server's raw sockets in `sockets` (destroyed on close); its address. */
async function listenOnLoopback(server: tls.Server, sockets: Set<Socket>, what: string): Promise<AddressInfo> {
  server.on('connection', (raw: Socket) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${what} has no TCP address`);
  return address;
}

/**
 * A TLS echo peer for a test file (an RSA server certificate of a fresh PKI): started before its tests, closed after
 * them. Read `.server` inside a test (it is set once `beforeAll` ran).
 */
export function useTlsEchoServer(): { readonly server: TlsEchoServer } {
  const peer = {} as { server: TlsEchoServer };
  beforeAll(async () => {
    const pki = await makePki();
    peer.server = await startTlsEchoServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  }, 60_000);
  afterAll(() => peer.server.close());
  return peer;
}
