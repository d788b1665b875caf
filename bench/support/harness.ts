/**
 * What the API benchmarks share: the module host in a child process (bench/support/moduleHost.ts), TLS sockets on
 * it through the public API, timed transfers, CPU and line counters, the protocol's framing and ceilings, and the
 * probes that measure in a fresh process.
 *
 *   this process (the host)                         child process (bench/support/moduleHost.ts)
 *   usocket/ussl/connectTls ─▶ Modem ─▶ transport ══▶ serveTcp/servePty ─▶ VirtualModule ══TLS══▶ peer
 *
 * The library and this script are all that run here, so `process.cpuUsage()` is the library's cost (plus the
 * transport's system calls); the module, its TLS stack and the peer run in the child.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Modem } from '../../src/index.js';
import type { Socket } from '../../src/ussl/Socket.js';
import { openTransport } from '../../src/transport/openTransport.js';
import type { Transport } from '../../src/transport/Transport.js';
import type { HostConfig, HostReady, HostUsage } from './moduleHost.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** The TLS peer's name; every module of the host resolves it to the peer. */
export const PEER = 'bench.test';

/** Reads a size in bytes from the environment (plain bytes, or with a KiB/MiB suffix: `256KiB`, `1MiB`). */
export function envBytes(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const m = /^(\d+)\s*(KiB|MiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`${name} must be a number of bytes, optionally with KiB or MiB: got "${text}"`);
  const unit = m[2]?.toLowerCase() === 'mib' ? MiB : m[2]?.toLowerCase() === 'kib' ? KiB : 1;
  return Number(m[1]) * unit;
}

/** The module host: a child process with `count` virtual modules and the TLS peer. */
export interface ModuleHost extends HostReady {
  /** CPU milliseconds and resident MiB of the child so far. */
  usage(): Promise<HostUsage>;
  stop(): Promise<void>;
}

const hostScript = fileURLToPath(new URL('./moduleHost.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the module host; resolves once it printed its ports. */
export async function startHost(config: HostConfig): Promise<ModuleHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', hostScript, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: repoRoot, // where `--import tsx` resolves
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve();
  }));
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (l) => waiting.shift()?.resolve(l));
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the module host exited (${String(exitCode)}): ${stderr}`));
  });
  const nextLine = (): Promise<string> => exitCode !== undefined
    ? Promise.reject(new Error(`the module host exited (${String(exitCode)}): ${stderr}`))
    : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = JSON.parse(await nextLine()) as HostReady;
  return {
    ...ready,
    async usage() {
      const line = nextLine();
      child.stdin.write('usage\n');
      return JSON.parse(await line) as HostUsage;
    },
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** AT commands the host wrote (and their names, in order), serial bytes written and read. */
export interface LineCount {
  commands: number;
  written: number;
  read: number;
  names: string[];
}

export const newCount = (): LineCount => ({ commands: 0, written: 0, read: 0, names: [] });

/** What crossed the line since `before` was taken (`{ ...count, names: [...count.names] }`). */
export function since(count: LineCount, before: LineCount): LineCount {
  return {
    commands: count.commands - before.commands, written: count.written - before.written, read: count.read - before.read,
    names: count.names.slice(before.names.length),
  };
}

export const snapshot = (count: LineCount): LineCount => ({ ...count, names: [...count.names] });

/** A transport factory for `Modem.open` that counts what crosses the line (the command economy). */
export function countingTarget(url: string, count: LineCount): () => Promise<Transport> {
  return async () => {
    const t = await openTransport(url);
    const write = t.write.bind(t);
    t.write = (data: Uint8Array): Promise<void> => {
      count.written += data.length;
      // The engine writes a command line whole, ending in CR; payloads in these benches never start with "AT".
      if (data.length >= 3 && data[0] === 0x41 && data[1] === 0x54 && data[data.length - 1] === 0x0d) {
        count.commands++;
        count.names.push(/^AT[^=?\r]*/.exec(Buffer.from(data).toString('latin1'))![0]);
      }
      return write(data);
    };
    t.on('data', (d) => (count.read += d.length));
    return t;
  };
}

/** This process's CPU time so far, in milliseconds. */
export interface Cpu { user: number; system: number }
export const cpu = (): Cpu => {
  const u = process.cpuUsage();
  return { user: u.user / 1000, system: u.system / 1000 };
};
export const cpuSince = (c0: Cpu): Cpu => {
  const c = cpu();
  return { user: c.user - c0.user, system: c.system - c0.system };
};

/** A TLS socket to the peer through `usocket.socket` and `ussl.wrap_socket` (wrapped before connect: no reopen). */
export async function openTlsSocket(modem: Modem, receive: 'buffer' | 'push' | 'transparent' = 'buffer'): Promise<Socket> {
  const sock = modem.usocket.socket();
  const tls = await modem.ussl.wrap_socket(sock, { server_hostname: PEER, receive });
  await tls.connect([PEER, 443]);
  return tls;
}

/** Reads exactly `n` bytes with `recv` (the peer's `OK\n`, or a download). */
export async function recvExactly(sock: Socket, n: number): Promise<void> {
  let got = 0;
  while (got < n) {
    const b = await sock.recv(Math.min(64 * KiB, n - got));
    if (b.length === 0) throw new Error(`the peer closed after ${got} of ${n} bytes`);
    got += b.length;
  }
}

/**
 * Sends `bytes` to the peer in `piece`-sized `send` calls queued at once, as a writer that keeps the socket busy
 * does (each resolves on its last `SEND OK`); milliseconds from the first call to the peer's `OK` (it got every byte).
 */
export async function timedUp(sock: Socket, bytes: number, piece = 64 * KiB): Promise<number> {
  await sock.send(`UP ${bytes}\n`);
  const data = Buffer.alloc(Math.min(piece, bytes), 0x61);
  const t0 = performance.now();
  const sends: Array<Promise<number>> = [];
  for (let off = 0; off < bytes; off += data.length) sends.push(sock.send(data.subarray(0, Math.min(data.length, bytes - off))));
  await Promise.all(sends);
  await recvExactly(sock, 3);
  return performance.now() - t0;
}

/** Asks the peer for `bytes`; milliseconds from the request's `SEND OK` to the last byte read. */
export async function timedDown(sock: Socket, bytes: number): Promise<number> {
  await sock.send(`DOWN ${bytes}\n`);
  const t0 = performance.now();
  await recvExactly(sock, bytes);
  return performance.now() - t0;
}

const chunks = (total: number, max: number): number[] =>
  Array.from({ length: Math.ceil(total / max) }, (_, i) => Math.min(max, total - i * max));

/** The ways data crosses the line. `transparent`: access mode 2 (`CONNECT`, then the line is the TLS stream). */
export type LinePath = 'send' | 'recv' | 'push' | 'transparent';

/** Module delays per command, as in a latency profile. */
export interface Delays { readonly commandMs: number; readonly promptMs: number; readonly sendOkMs: number }

/**
 * Every byte and command a path needs for `bytes` of goodput, echo off, client id 0. Send, per ≤1460-byte chunk:
 * `AT+QSSLSEND=0,<n>\r`, then `\r\n> `, the payload, `\r\nSEND OK\r\n`. Buffer-mode receive, per ≤1500-byte read:
 * `AT+QSSLRECV=0,1500\r`, then `\r\n+QSSLRECV: <n>\r\n`, the data, `\r\n\r\nOK\r\n` (the recv URC and the empty
 * read that ends a drain come once per burst and are left out: a floor). Direct push, per ≤1500 bytes:
 * `\r\n+QSSLURC: "recv",0,<n>\r\n`, the data, `\r\n`. Transparent: the data alone.
 */
export function framing(path: LinePath, bytes: number): { commands: number; written: number; read: number } {
  let commands = 0;
  let written = 0;
  let read = 0;
  if (path === 'send') {
    for (const c of chunks(bytes, 1460)) {
      commands++;
      written += `AT+QSSLSEND=0,${c}\r`.length + c;
      read += '\r\n> '.length + '\r\nSEND OK\r\n'.length;
    }
  } else if (path === 'recv') {
    for (const c of chunks(bytes, 1500)) {
      commands++;
      written += 'AT+QSSLRECV=0,1500\r'.length;
      read += `\r\n+QSSLRECV: ${c}\r\n`.length + c + '\r\n\r\nOK\r\n'.length;
    }
  } else if (path === 'push') {
    for (const c of chunks(bytes, 1500)) read += `\r\n+QSSLURC: "recv",0,${c}\r\n`.length + c + 2;
  } else {
    read = bytes;
  }
  return { commands, written, read };
}

/**
 * The share of the line (baud/10 bytes/s) a path allows for `bytes` of goodput: its bytes on the line (both
 * directions take turns, one command at a time) plus the module's delays per command.
 */
export function ceiling(path: LinePath, bytes: number, baud: number, d: Delays): number {
  const f = framing(path, bytes);
  const lineMs = (n: number): number => (n * 10_000) / baud;
  // Buffer mode is one command at a time: what is written and what is read never overlap. Push and transparent
  // receive use one direction only.
  const onLine = path === 'send' || path === 'recv' ? f.written + f.read : f.read;
  const delay = path === 'send' ? f.commands * (d.commandMs + d.promptMs + d.sendOkMs) : path === 'recv' ? f.commands * d.commandMs : 0;
  return lineMs(bytes) / (lineMs(onLine) + delay);
}

export const size = (n: number): string => (n >= MiB ? `${+(n / MiB).toFixed(2)} MiB` : n >= KiB ? `${+(n / KiB).toFixed(1)} KiB` : `${n} B`);
export const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
export const mibps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs `script` (a file next to this one) in a fresh Node process with `args`, and resolves with the JSON object it
 * prints as its last line: each figure then starts from a clean heap, whatever ran before it. Its stderr is passed
 * on when it fails.
 */
export async function runProbe<T>(script: string, args: readonly string[]): Promise<T> {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`${script} ${args.join(' ')} failed (${String(code)}): ${stderr || stdout}`);
  return JSON.parse(last) as T;
}

/**
 * `Modem.open` on a module served on TCP, tried again while the server still counts the previous client as
 * connected (it answers a second client `BUSY` and closes it; the previous one's close takes a moment to arrive).
 */
export async function openModem(target: Parameters<typeof Modem.open>[0], attempts = 20, options?: Parameters<typeof Modem.open>[1]): Promise<Modem> {
  for (let i = 1; ; i++) {
    try {
      return await Modem.open(target, options);
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export { Modem };
