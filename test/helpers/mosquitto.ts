/**
 * A mosquitto broker on 127.0.0.1 with a TLS listener that requires a client certificate from the test CA
 * (`require_certificate true`), started as a child process and stopped again.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pki } from './pki.js';

export interface Broker {
  readonly port: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** @throws Error naming the missing package when mosquitto is not installed (Debian: apt-get install mosquitto). */
export async function startMosquitto(pki: Pki): Promise<Broker> {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
  const dir = await mkdtemp(join(tmpdir(), 'ussl-mqtt-'));
  // Started as root, mosquitto drops to its own user: its files must be readable by it (a throw-away test key).
  await chmod(dir, 0o755);
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
  await copyFile(pki.ca.certPath, files.ca);
  await copyFile(pki.serverRsa.certPath, files.cert);
  await copyFile(pki.serverRsa.keyPath, files.key);
  for (const f of Object.values(files)) await chmod(f, 0o644);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', `cafile ${files.ca}`, `certfile ${files.cert}`,
    `keyfile ${files.key}`, 'require_certificate true', 'use_identity_as_username true', 'persistence false', '',
  ].join('\n'));
  const child = spawn(bin, ['-c', conf, '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start mosquitto (${e.message}); install it: apt-get install mosquitto`)));
    child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${output}`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  while (!/Opening ipv4 listen socket on port/.test(output)) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not start: ${output}`);
    await Promise.race([new Promise((r) => setTimeout(r, 20)), exited]);
  }
  return {
    port,
    async close() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
