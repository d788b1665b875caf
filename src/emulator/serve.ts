/**
 * Serves a virtual module outside the process: on a pseudo-terminal pair made by socat (a terminal program, another
 * language's driver or the hardware-in-the-loop suite opens the link as a serial device), or on a TCP port that
 * speaks the raw byte stream the way ser2net does (`socket://host:port`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { QuectelError } from '../errors.js';
import type { VirtualModule } from './VirtualModule.js';

/** A running server; `close()` stops it and leaves the module as it is. */
export interface ModuleServer {
  /** The pty link path or `socket://host:port` a client opens. */
  readonly url: string;
  close(): Promise<void>;
}

/** Wires a byte stream to the module both ways; returns the function that unwires it. */
function wire(module: VirtualModule, write: (b: Buffer) => void, source: NodeJS.EventEmitter): () => void {
  const out = (chunk: Buffer) => write(chunk);
  const input = (chunk: Buffer) => module.write(chunk);
  module.on('output', out);
  source.on('data', input);
  return () => {
    module.off('output', out);
    source.off('data', input);
  };
}

/**
 * Serves `module` on TCP `host:port` (port 0 picks a free one). One client at a time, as a serial line has one
 * other end; a second client is refused until the first leaves.
 */
export function serveTcp(module: VirtualModule, port: number, host = '127.0.0.1'): Promise<ModuleServer> {
  let client: Socket | undefined;
  const server: Server = createServer((socket) => {
    if (client) {
      socket.end('\r\nBUSY\r\n');
      return;
    }
    client = socket;
    socket.setNoDelay(true);
    const unwire = wire(module, (b) => socket.write(b), socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      unwire();
      client = undefined;
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new QuectelError('EMULATOR_SERVE_FAILED', `cannot listen on ${host}:${port}: ${e.message}`, {}, { cause: e })));
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        url: `socket://${host}:${actual}`,
        close: () => new Promise<void>((done) => {
          client?.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

async function waitFor(check: () => boolean, ms: number, what: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (proc.exitCode !== null) throw new QuectelError('EMULATOR_SERVE_FAILED', `socat exited early (code ${proc.exitCode})`);
    if (Date.now() > deadline) throw new QuectelError('EMULATOR_SERVE_FAILED', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Serves `module` on a pseudo-terminal: socat makes a pty pair, `link` names the end clients open, and this process
 * holds the other end through serialport's native binding. Needs `socat` (Debian: `apt-get install socat`).
 * @throws QuectelError `EMULATOR_SERVE_FAILED` when socat is missing or the pair does not come up.
 */
export async function servePty(module: VirtualModule, link: string): Promise<ModuleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ussl-pty-'));
  const inner = join(dir, 'module');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${link}`, `pty,raw,echo=0,link=${inner}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const spawnError = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new QuectelError(
    'EMULATOR_SERVE_FAILED', `cannot start socat (${e.message}); install it, e.g. apt-get install socat`, {}, { cause: e }))));
  spawnError.catch(() => {});
  proc.stderr?.resume();
  try {
    await Promise.race([waitFor(() => existsSync(link) && existsSync(inner), 5000, 'the pty pair', proc), spawnError]);
  } catch (e) {
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const port = new SerialPort({ path: inner, baudRate: 115_200 });
  await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
  const unwire = wire(module, (b) => port.write(b), port);
  port.on('error', () => {});
  return {
    url: link,
    close: async () => {
      unwire();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      proc.kill();
      await new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
