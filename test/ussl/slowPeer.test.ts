/**
 * A peer slower than the line, through usocket/ussl: the module's send buffer fills and it answers `SEND FAIL`
 * (§4.1); `sendall` still delivers every byte, in order, exactly once, whichever retry policy waits out the refusals.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { Modem } from '../../src/index.js';
import { makePki } from '../helpers/pki.js';

let sink: Server;
let port = 0;
/** Everything each connection to the sink received, resolved when it ends. */
let nextConnection: Promise<Buffer>;
const expectConnection = () => {
  nextConnection = new Promise((resolve) => sink.once('secureConnection', (s: TLSSocket) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', () => resolve(Buffer.concat(parts)));
  }));
};
beforeAll(async () => {
  const pki = await makePki();
  sink = createServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  port = (sink.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => sink.close(() => r())));

test.each(['paced', 'backoff'] as const)('%s retries: every byte arrives once and in order, past SEND FAILs', async (kind) => {
  // The network takes 16000 bytes/s; the serial line is unpaced, so the 4096-byte send buffer is soon full.
  const module = new VirtualModule({ model: 'EC25', hosts: { 'sink.test': `127.0.0.1:${port}` }, sendBufferBytes: 4096, uplinkBytesPerSecond: 16_000 });
  let refused = 0;
  module.on('trace', (e) => {
    if (e.from === 'module' && e.kind === 'line' && e.text === 'SEND FAIL') refused++;
  });
  const modem = await Modem.open(module, { connections: { sendRetry: { kind } } });
  try {
    expectConnection();
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: 'sink.test' });
    await s.connect(['sink.test', 443]);
    const data = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7) % 251));
    await s.sendall(data);
    // A graceful close: what the module still holds goes out before the id is freed.
    await s.close();
    const got = await nextConnection;
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    expect(refused).toBeGreaterThan(0);
  } finally {
    await modem.close();
    module.dispose();
  }
});
