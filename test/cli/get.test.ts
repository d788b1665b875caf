/**
 * `ussl-bridge get URL` as a person runs it: the built binary in a child process, an HTTPS GET through the virtual
 * module to a local server it resolves with `--host`. 1 MiB of random bytes arrives intact (SHA-256), the server is
 * verified with `--ca`, a client certificate reaches a server that requires one, and each failure has its exit code.
 * On a terminal (tmux) the progress bar is drawn on stderr.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeDemoPki, type DemoPki } from '../../src/emulator/index.js';
import { CLI, runCli } from '../helpers/cliProcess.js';
import { startTmux } from '../helpers/tmux.js';

const MiB = 1024 * 1024;
const blob = randomBytes(MiB);
const blobSha = createHash('sha256').update(blob).digest('hex');
let pki: DemoPki;
let other: DemoPki;
let dir: string;
let server: Server;
let mtls: Server;
let hosts: string[];

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
}

beforeAll(async () => {
  [pki, other] = await Promise.all([makeDemoPki(['big.test', 'mtls.test']), makeDemoPki(['big.test'])]);
  dir = mkdtempSync(join(tmpdir(), 'ussl-get-'));
  writeFileSync(join(dir, 'ca.pem'), pki.ca.cert);
  writeFileSync(join(dir, 'other-ca.pem'), other.ca.cert);
  writeFileSync(join(dir, 'client.pem'), pki.client.cert);
  writeFileSync(join(dir, 'client.key'), pki.client.key);
  server = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const sock = req.socket as TLSSocket;
    if (req.url === '/blob') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
      res.end(blob);
    } else if (req.url === '/cipher') res.end(`${sock.getProtocol()} ${sock.getCipher().standardName}\n`);
    else if (req.url === '/moved') res.writeHead(302, { location: '/cipher' }).end('moved\n');
    else res.writeHead(404).end('not here\n');
  });
  mtls = createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.end(`hello ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}\n`);
  });
  const [port, mtlsPort] = await Promise.all([listen(server), listen(mtls)]);
  hosts = ['--host', `big.test=127.0.0.1:${port}`, '--host', `mtls.test=127.0.0.1:${mtlsPort}`];
});

afterAll(async () => {
  for (const s of [server, mtls]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  rmSync(dir, { recursive: true, force: true });
});

test('1 MiB through the virtual module, the server verified with --ca, arrives with the same SHA-256', async () => {
  const file = join(dir, 'blob.bin');
  const t0 = performance.now();
  const r = await runCli([...hosts, 'get', '--ca', join(dir, 'ca.pem'), '-o', file, 'https://big.test/blob'], { timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  expect(r.err).not.toContain('warning');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toBe('');
  expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(blobSha);
  expect(r.err).toMatch(new RegExp(`^HTTP/1\\.1 200 OK: 1\\.0 MiB in .*, sha256 ${blobSha}, saved to .*blob\\.bin; \\d+ AT commands on virtual EC25\\n$`));
  console.log(`get 1 MiB: ${ms.toFixed(0)} ms for the whole process; ${r.err.trim()}`);
}, 120_000);

test('--json prints one document: status, size, SHA-256, verification and the AT commands it cost', async () => {
  const r = await runCli([...hosts, '--json', 'get', '--ca', join(dir, 'ca.pem'), 'https://big.test/blob'], { timeoutMs: 120_000 });
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe('');
  const doc = JSON.parse(r.out) as Record<string, unknown>;
  expect(doc).toMatchObject({ url: 'https://big.test/blob', status: 200, bytes: MiB, sha256: blobSha, verified: true, file: null, module: 'virtual EC25' });
  expect(doc.atCommands).toBeGreaterThan(MiB / 1500);
}, 120_000);

test('without --ca the body goes to stdout and stderr warns that the server is not verified', async () => {
  const r = await runCli([...hosts, 'get', 'https://big.test/cipher']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^TLSv1\.2 TLS_\w+\n$/);
  expect(r.err).toMatch(/^ussl-bridge: warning: the server's certificate is not verified; give --ca FILE to verify it\n/);
});

test('--tls 1.2 and --cipher choose the handshake the server sees', async () => {
  const r = await runCli([...hosts, 'get', '--ca', join(dir, 'ca.pem'), '--tls', '1.2', '--cipher', 'ECDHE-RSA-AES256-GCM-SHA384', 'https://big.test/cipher']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toBe('TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n');
});

test('--cert and --key reach a server that requires a client certificate; without them it is exit 5', async () => {
  const ca = join(dir, 'ca.pem');
  const ok = await runCli([...hosts, 'get', '--ca', ca, '--cert', join(dir, 'client.pem'), '--key', join(dir, 'client.key'), 'https://mtls.test/']);
  expect(ok.code, ok.err).toBe(0);
  expect(ok.out).toBe('hello ussl-bridge demo client\n');
  const refused = await runCli([...hosts, 'get', '--ca', ca, 'https://mtls.test/']);
  expect(refused.code).toBe(5);
  expect(refused.err).toMatch(/TLS open of mtls\.test:443 failed.*\[OS_ERROR\]\n$/);
});

test('a server the CA does not vouch for is refused: exit 5, nothing on stdout', async () => {
  const r = await runCli([...hosts, 'get', '--ca', join(dir, 'other-ca.pem'), 'https://big.test/cipher']);
  expect(r.code).toBe(5);
  expect(r.out).toBe('');
});

test('redirects are followed only with -L; --fail turns a 404 into exit 7', async () => {
  const plain = await runCli([...hosts, 'get', 'https://big.test/moved']);
  expect(plain.code).toBe(0);
  expect(plain.out).toBe('moved\n');
  const followed = await runCli([...hosts, 'get', '-L', 'https://big.test/moved']);
  expect(followed.code).toBe(0);
  expect(followed.out).toMatch(/^TLSv1\.2 /);
  expect((await runCli([...hosts, 'get', 'https://big.test/nothing'])).code).toBe(0);
  const failed = await runCli([...hosts, 'get', '--fail', 'https://big.test/nothing']);
  expect(failed.code).toBe(7);
  expect(failed.err).toMatch(/the server answered 404/);
});

test('what the module cannot do is exit 4; what the user got wrong is 2; a missing file is 6', async () => {
  const tls13 = await runCli([...hosts, 'get', '--tls', '1.3', 'https://big.test/cipher']);
  expect(tls13.code).toBe(4);
  expect(tls13.err).toMatch(/offers no TLS 1\.3 .*\[TLS_VERSION_UNSUPPORTED\]\n$/);
  // The EC25 profile (EG25-G 01.003's list, T19) has no ChaCha20 suite.
  const chacha = await runCli([...hosts, 'get', '--cipher', 'ECDHE-RSA-CHACHA20-POLY1305', 'https://big.test/cipher']);
  expect(chacha.code).toBe(4);
  expect(chacha.err).toMatch(/this firmware does not offer TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 \(0XCCA8\) \[CIPHER_UNSUPPORTED\]/);
  const http = await runCli(['get', 'http://big.test/']);
  expect(http.code).toBe(2);
  expect(http.err).toBe('ussl-bridge: only https:// URLs: the module does the TLS (got http://)\n');
  const missing = await runCli(['get', '--ca', join(dir, 'nope.pem'), 'https://big.test/']);
  expect(missing.code).toBe(6);
  expect(missing.err).toMatch(/nope\.pem.*\[ENOENT\]/);
  const badKey = await runCli(['get', '--cert', join(dir, 'client.pem'), '--key', join(dir, 'ca.pem'), 'https://mtls.test/']);
  expect(badKey.code).toBe(2);
  expect(badKey.err).toMatch(/\[CERT_INVALID\]/);
});

test('on a terminal the progress bar is drawn on stderr and ends at 100 %', async () => {
  const file = join(dir, 'tty.bin');
  const term = startTmux(`${process.execPath} ${CLI} ${hosts.join(' ')} get --ca ${join(dir, 'ca.pem')} -o ${file} https://big.test/blob`, {
    env: { USSL_PORT: undefined },
  });
  try {
    const pane = await term.waitFor(/\[exited \d+\]/, 120_000);
    expect(pane).toContain('[exited 0]');
    expect(pane).toMatch(/█+ 100% \| 1\.0 MiB of 1\.0 MiB \| [\d.]+ (KiB|MiB)\/s \| ETA 0s/);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(blobSha);
  } finally {
    term.kill();
  }
}, 120_000);

test('on a terminal with the body going to it too, no bar is drawn over the body (as curl does)', async () => {
  const term = startTmux(`${process.execPath} ${CLI} ${hosts.join(' ')} get --ca ${join(dir, 'ca.pem')} https://big.test/cipher`, {
    env: { USSL_PORT: undefined },
  });
  try {
    const pane = await term.waitFor(/\[exited \d+\]/, 60_000);
    expect(pane).toContain('[exited 0]');
    expect(pane).toMatch(/^TLSv1\.2 TLS_\w+$/m); // the body on a line of its own
    expect(pane).not.toMatch(/%\s*\|/); // and no progress bar
  } finally {
    term.kill();
  }
}, 60_000);
