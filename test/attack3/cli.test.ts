/**
 * `ussl-bridge get` against hostile HTTPS servers (through the virtual module, --host pointing a name at them): a
 * short body, broken chunked encoding, a header flood, no response, not HTTP at all, duplicate Content-Length. Each
 * must end with the connection exit code (5), promptly, never 0; a well-formed answer on a kept-alive connection
 * must end with 0 without waiting for the server to close.
 */
import { createServer, type TLSSocket } from 'node:tls';
import { beforeAll, expect, test } from 'vitest';
import { runCli } from '../helpers/cliProcess.js';
import { makePki, type Pki } from '../helpers/pki.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

async function hostile(answer: (s: TLSSocket) => void): Promise<{ port: number; close: () => void }> {
  const server = createServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key }, (s) => {
    s.on('error', () => {});
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n\r\n')) {
        got = '';
        answer(s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

const cases: ReadonlyArray<readonly [string, (s: TLSSocket) => void, number]> = [
  ['a body shorter than its Content-Length', (s) => s.end(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(50)}`), 5],
  ['a malformed chunk size', (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n'), 5],
  ['a chunked body cut before its last chunk', (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n'), 5],
  ['a 100 kB header', (s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 2\r\n\r\nok`), 5],
  ['no response at all (closed after the request)', (s) => s.end(), 5],
  ['not HTTP', (s) => s.end('garbage garbage\r\n\r\n'), 5],
  ['two different Content-Length headers', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok'), 5],
  ['a complete answer on a connection the server keeps open', (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 0],
];

for (const [what, answer, exit] of cases) {
  test(`get against a server sending ${what}: exit ${exit}`, async () => {
    const srv = await hostile(answer);
    try {
      const t0 = Date.now();
      const r = await runCli(['--host', `bad.test=127.0.0.1:${srv.port}`, 'get', 'https://bad.test/'], { timeoutMs: 15_000 });
      expect({ code: r.code, err: r.code === exit ? '' : r.err }).toEqual({ code: exit, err: '' });
      expect(Date.now() - t0).toBeLessThan(12_000);
      if (exit === 0) expect(r.out).toBe('ok');
    } finally {
      srv.close();
    }
  }, 20_000);
}
