/**
 * The far side of the API benchmarks, in a child process of its own so that the host's CPU figures are the
 * library's alone: `count` virtual modules, each served on its own TCP port (as ser2net serves a serial line,
 * `serveTcp`) or on a socat pty (`servePty`), and the TLS peer they all connect to.
 *
 * The peer speaks a tiny protocol on each TLS connection, one request line at a time:
 *   `UP <n>\n`    read n bytes, then answer `OK\n`            (the host times send from its first byte to `OK`)
 *   `DOWN <n>\n`  write n bytes as fast as the connection takes them (the host times receive to the last byte)
 * so one connection carries a whole sequence of transfers.
 *
 * Started by bench/support/harness.ts as `node --import tsx bench/support/moduleHost.ts '<json config>'`; it prints
 * one JSON line (the ports, the peer's port and CA) and runs until stdin closes or it gets SIGTERM.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { VirtualModule, serveTcp, servePty, type LatencyProfileName, type ModuleServer } from '../../src/emulator/index.js';
import { makePki } from '../../test/helpers/pki.js';

export interface HostConfig {
  readonly count: number;
  readonly baud?: number;
  readonly latency?: LatencyProfileName;
  /** `tcp` (default): a TCP port per module, as ser2net serves a line; `pty`: a socat pty link per module. */
  readonly serve?: 'tcp' | 'pty';
  /** Each connection's send buffer (VirtualModuleOptions.sendBufferBytes). Default: the module's. */
  readonly sendBufferBytes?: number;
  /** The network's pace for sent bytes (VirtualModuleOptions.uplinkBytesPerSecond). Default: unpaced. */
  readonly uplinkBytesPerSecond?: number;
}

/** The child's own CPU time (milliseconds) and resident size (MiB), on request. */
export interface HostUsage {
  readonly user: number;
  readonly system: number;
  readonly rssMiB: number;
}

export interface HostReady {
  readonly urls: string[];
  readonly peerPort: number;
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

const config = JSON.parse(process.argv[2] ?? '{"count":1}') as HostConfig;
const pki = await makePki();

const chunk = Buffer.alloc(64 * 1024, 0x5a);
function serve(socket: TLSSocket): void {
  let head = Buffer.alloc(0);
  let upLeft = 0;
  socket.on('error', () => socket.destroy());
  const downstream = (n: number): void => {
    let left = n;
    const pump = (): void => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    pump();
  };
  socket.on('data', (d: Buffer) => {
    let data = d;
    while (data.length > 0) {
      if (upLeft > 0) {
        const take = Math.min(upLeft, data.length);
        upLeft -= take;
        data = data.subarray(take);
        if (upLeft === 0) socket.write('OK\n');
        continue;
      }
      head = Buffer.concat([head, data]);
      data = Buffer.alloc(0);
      const lf = head.indexOf(0x0a);
      if (lf < 0) return;
      const [verb, arg] = head.subarray(0, lf).toString('latin1').split(' ');
      data = head.subarray(lf + 1);
      head = Buffer.alloc(0);
      if (verb === 'UP') {
        upLeft = Number(arg);
        if (upLeft === 0) socket.write('OK\n');
      } else if (verb === 'DOWN') downstream(Number(arg));
    }
  });
}

const peer = createTlsServer({ cert: pki.serverRsa.cert, key: pki.serverRsa.key, requestCert: true, rejectUnauthorized: false }, serve);
await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
const peerPort = (peer.address() as { port: number }).port;

const servers: ModuleServer[] = [];
const modules: VirtualModule[] = [];
for (let i = 0; i < config.count; i++) {
  const module = new VirtualModule({
    model: 'EC25', hosts: { 'bench.test': `127.0.0.1:${peerPort}` },
    ...(config.baud ? { baud: config.baud } : {}), ...(config.latency ? { latency: config.latency } : {}),
    ...(config.sendBufferBytes ? { sendBufferBytes: config.sendBufferBytes } : {}),
    ...(config.uplinkBytesPerSecond ? { uplinkBytesPerSecond: config.uplinkBytesPerSecond } : {}),
  });
  modules.push(module);
  servers.push(config.serve === 'pty'
    ? await servePty(module, join(tmpdir(), `ussl-bench-${process.pid}-${i}`))
    : await serveTcp(module, 0, { maxQueuedBytes: 64 * 1024 * 1024 }));
}

const ready: HostReady = { urls: servers.map((s) => s.url), peerPort, ca: pki.ca.cert, clientCert: pki.client.cert, clientKey: pki.client.key };
process.stdout.write(`${JSON.stringify(ready)}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(servers.map((s) => s.close()));
  for (const m of modules) m.dispose();
  peer.close();
  process.exit(0);
}
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
// Usage of this process, on request: the host writes `usage` on stdin and reads one JSON line back.
process.stdin.on('data', (d: Buffer) => {
  const asked = d.toString().match(/usage/g)?.length ?? 0;
  for (let i = 0; i < asked; i++) {
    const u = process.cpuUsage();
    const usage: HostUsage = { user: u.user / 1000, system: u.system / 1000, rssMiB: process.memoryUsage().rss / 2 ** 20 };
    process.stdout.write(`${JSON.stringify(usage)}\n`);
  }
});
