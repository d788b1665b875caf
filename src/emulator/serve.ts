/**
 * Serves a virtual module outside the process: on a pseudo-terminal pair made by socat (a terminal program, another
 * language's driver or the hardware-in-the-loop suite opens the link as a serial device), or on a TCP port that
 * speaks the raw byte stream the way ser2net does (`socket://host:port`).
 *
 * A server is meant to be left running: a client that misbehaves (resets, floods, never reads, never leaves) costs
 * it nothing lasting, and `close()` always returns.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { guardUnixPoller } from '../bindings/guardUnixPoller.js';
import { QuectelError } from '../errors.js';
import type { VirtualModule } from './VirtualModule.js';

/** A running server; `close()` stops it and leaves the module as it is. */
export interface ModuleServer {
  /** The pty link path or `socket://host:port` a client opens. */
  readonly url: string;
  /** Resolves with the reason when the server stops by itself (socat died, its link was removed); never on close(). */
  readonly ended: Promise<string>;
  close(): Promise<void>;
}

/** Options of {@link serveTcp}. */
export interface ServeTcpOptions {
  /** Address to listen on. Default: `'127.0.0.1'`. */
  readonly host?: string;
  /**
   * Most bytes queued for a client that does not read; beyond it the module's output is lost, as on a UART without
   * flow control. Default: 1 MiB.
   */
  readonly maxQueuedBytes?: number;
}

/** How long a refused client may keep its socket after `BUSY`. */
const REFUSED_LINGER_MS = 1000;

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

/** After a client shut its sending side: the module's silence that ends the connection, and the longest wait. */
const HALF_CLOSE_QUIET_MS = 300;
const HALF_CLOSE_MAX_MS = 10_000;

/**
 * Serves `module` on TCP `host:port` (port 0 picks a free one). One client at a time, as a serial line has one other
 * end: the first client to connect powers the module on (it sees the boot banner); a second one is answered `BUSY`,
 * read until it leaves (at most a second) and closed.
 */
export function serveTcp(module: VirtualModule, port: number, options: ServeTcpOptions = {}): Promise<ModuleServer> {
  const host = options.host ?? '127.0.0.1';
  const maxQueued = options.maxQueuedBytes ?? 1024 * 1024;
  const sockets = new Set<Socket>();
  let client: Socket | undefined;
  let ended!: (reason: string) => void;
  const endedPromise = new Promise<string>((resolve) => (ended = resolve));
  // Half-open: a client that sends its commands and shuts its side (`printf 'ATI\r' | nc -N`) still gets the answers.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    // A reset, a write to a closed peer: never an unhandled 'error' event, only this socket goes.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    if (client) {
      // Its bytes are read and dropped, so its hang-up is seen and its descriptor freed.
      socket.resume();
      socket.end('\r\nBUSY\r\n');
      const linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      socket.once('close', () => clearTimeout(linger));
      return;
    }
    client = socket;
    socket.setNoDelay(true);
    let lastOutput = Date.now();
    const unwire = wire(module, (b) => {
      lastOutput = Date.now();
      if (!socket.destroyed && socket.writableLength < maxQueued) socket.write(b);
    }, socket);
    // The client finished sending: answer what it sent, then end once the module has been quiet a moment.
    socket.once('end', () => {
      const started = Date.now();
      const check = setInterval(() => {
        if (Date.now() - lastOutput >= HALF_CLOSE_QUIET_MS || Date.now() - started >= HALF_CLOSE_MAX_MS || socket.destroyed) {
          clearInterval(check);
          socket.end();
        }
      }, HALF_CLOSE_QUIET_MS / 4);
      socket.once('close', () => clearInterval(check));
    });
    socket.on('close', () => {
      unwire();
      if (client === socket) {
        client = undefined;
        module.hostLeft();
      }
    });
    module.attach();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new QuectelError('EMULATOR_SERVE_FAILED', `cannot listen on ${host}:${port}: ${e.message}`, {}, { cause: e })));
    server.listen(port, host, () => {
      server.on('error', (e) => ended(`the server failed: ${e.message}`));
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        url: `socket://${host}:${actual}`,
        ended: endedPromise,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** socat's own complaint, from its stderr: the error lines, or the last line. */
function socatError(stderr: string): string {
  const errors = stderr.split('\n').filter((l) => / E /.test(l)).map((l) => l.replace(/^.*? E /, ''));
  return errors.length > 0 ? errors.join('; ') : stderr.trim().split('\n').at(-1) ?? '';
}

/**
 * Serves `module` on a pseudo-terminal: socat makes a pty pair, `link` names the end clients open, and this process
 * holds the other end through serialport's native binding. The module powers on when the first client opens the
 * link (socat's `wait-slave`), so that client sees `RDY`; clients may close and reopen it (`ignoreeof`).
 * Needs `socat` (Debian: `apt-get install socat`).
 * @throws QuectelError `EMULATOR_SERVE_FAILED` when `link` exists, socat is missing, or the pair does not come up
 * (with socat's own message).
 */
export async function servePty(module: VirtualModule, link: string): Promise<ModuleServer> {
  if (existsSync(link) || isSymlink(link)) {
    throw new QuectelError('EMULATOR_SERVE_FAILED', `${link} already exists; refusing to replace it (remove it, or choose another path)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ussl-pty-'));
  const inner = join(dir, 'module');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${inner}`, `pty,raw,echo=0,link=${link},wait-slave,ignoreeof`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (t: string) => {
    stderr += t;
    if (stderr.length > 65_536) stderr = stderr.slice(-16_384);
    if (t.includes('starting data transfer loop')) module.attach();
  });
  const exited = new Promise<string>((resolve) => proc.once('exit', (code, signal) => resolve(
    `socat exited (${signal ?? `code ${code}`})${socatError(stderr) ? `: ${socatError(stderr)}` : ''}`)));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (e) => reject(new QuectelError('EMULATOR_SERVE_FAILED',
        `cannot start socat (${e.message}); install it, e.g. apt-get install socat`, {}, { cause: e })));
      void exited.then((why) => reject(new QuectelError('EMULATOR_SERVE_FAILED', why)));
      const deadline = Date.now() + 5000;
      const poll = () => {
        if (/ E /.test(stderr)) reject(new QuectelError('EMULATOR_SERVE_FAILED', `socat failed: ${socatError(stderr)}`));
        else if (existsSync(inner) && isSymlink(link)) resolve();
        else if (Date.now() > deadline) reject(new QuectelError('EMULATOR_SERVE_FAILED', `socat made no pty pair in 5 s: ${socatError(stderr)}`));
        else setTimeout(poll, 10);
      };
      poll();
    });
  } catch (e) {
    proc.kill();
    cleanup();
    throw e;
  }
  // Reads and writes go both ways at once here: the guard keeps a parked write polled while a read waits
  // (bindings/guardUnixPoller.ts), or the module's output can stall under load.
  const port = new SerialPortStream({ binding: guardUnixPoller(SerialPort.binding), path: inner, baudRate: 115_200 });
  await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
  const unwire = wire(module, (b) => port.write(b), port);
  port.on('error', () => {});
  let closing = false;
  let ended!: (reason: string) => void;
  const endedPromise = new Promise<string>((resolve) => (ended = resolve));
  void exited.then((why) => {
    if (!closing) ended(why);
  });
  // The link is the server's address: when someone removes it, no client can reach the module any more.
  const watch = setInterval(() => {
    if (!isSymlink(link) && !closing) ended(`the link ${link} was removed`);
  }, 500);
  watch.unref();
  return {
    url: link,
    ended: endedPromise,
    close: async () => {
      closing = true;
      clearInterval(watch);
      unwire();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      if (proc.exitCode === null && proc.signalCode === null) proc.kill();
      await exited;
      // The link is this server's own (an existing path is refused): leave nothing behind.
      if (isSymlink(link)) rmSync(link, { force: true });
      cleanup();
    },
  };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
