/**
 * ser2net (the Debian package) on loopback, serving serial devices as raw TCP (`socket://`) and as telnet with
 * RFC 2217 (`rfc2217://`), from a YAML configuration written for the test. Stopped with SIGTERM; its output is kept
 * for failure messages.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Ser2netPort {
  /** The serial device (a pty link) served. */
  readonly device: string;
  /** `raw`: `socket://`; `rfc2217`: telnet with the COM-PORT-OPTION. */
  readonly mode: 'raw' | 'rfc2217';
}

export interface Ser2net {
  /** The URL of each served port, in the order given. */
  readonly urls: readonly string[];
  /** What ser2net printed. */
  output(): string;
  close(): Promise<void>;
}

/** The ser2net binary, which lives in /usr/sbin (often not on a user's PATH). */
export function ser2netPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v ser2net || ls /usr/sbin/ser2net'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!found) throw new Error('ser2net is not installed (Debian: apt-get install ser2net)');
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(port: number, deadline: number, why: () => string): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      // A probe that connects would open the device and take the port; ser2net's accepter answers a bare SYN, so
      // connect and leave at once.
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`ser2net did not listen on ${port}: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSer2net(ports: readonly Ser2netPort[]): Promise<Ser2net> {
  const dir = mkdtempSync(join(tmpdir(), 'ser2net-'));
  const numbers = await Promise.all(ports.map(() => freePort()));
  const yaml = ports.map((p, i) => [
    `connection: &port${i}`,
    `  accepter: ${p.mode === 'rfc2217' ? 'telnet(rfc2217),' : ''}tcp,127.0.0.1,${numbers[i]}`,
    `  connector: serialdev,${p.device},115200n81,local`,
    '  options:',
    '    kickolduser: true',
  ].join('\n')).join('\n');
  const config = join(dir, 'ser2net.yaml');
  writeFileSync(config, `${yaml}\n`);
  // -n: stay in the foreground; -d: log to stderr; -u: no UUCP locks (the test owns the devices).
  const child = spawn(ser2netPath(), ['-n', '-d', '-u', '-c', config, '-P', join(dir, 'pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 10_000;
    for (const n of numbers) await listening(n, deadline, () => out);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    urls: ports.map((p, i) => `${p.mode === 'rfc2217' ? 'rfc2217' : 'socket'}://127.0.0.1:${numbers[i]}`),
    output: () => out,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
