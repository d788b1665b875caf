/** Shared set-up for the attack tests: a virtual EC25, a modem on it, TCP/TLS peers on loopback, cleanups. */
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { AtTraceEvent } from '../../src/at/AtEngine.js';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { Modem } from '../../src/index.js';
import type { ModemOptions } from '../../src/modem/ModemOptions.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startTlsEchoServer, type TlsEchoServer } from '../helpers/tlsPeers.js';

export const cleanups: Array<() => unknown> = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      /* ignore */
    }
  }
}

/** A test file's peer: one PKI and one TLS echo server (RSA certificate) for the whole file. */
export interface EchoPeer {
  readonly pki: Pki;
  readonly echo: TlsEchoServer;
}

/** Sets up the file's {@link EchoPeer} before its tests, closes it after them, and runs the cleanups after each test. */
export function useTlsEcho(): EchoPeer {
  const peer = {} as { pki: Pki; echo: TlsEchoServer };
  beforeAll(async () => {
    peer.pki = await makePki();
    peer.echo = await startTlsEchoServer({ cert: peer.pki.serverRsa.cert, key: peer.pki.serverRsa.key });
  });
  afterAll(() => peer.echo.close());
  afterEach(runCleanups);
  return peer;
}

export interface Rig {
  modem: Modem;
  module: VirtualModule;
  commands: string[];
  trace: AtTraceEvent[];
}

export async function rig(options: VirtualModuleOptions = {}, modemOptions: ModemOptions = {}): Promise<Rig> {
  const module = new VirtualModule({ model: 'EC25', ...options });
  const commands: string[] = [];
  const trace: AtTraceEvent[] = [];
  const userTrace = modemOptions.at?.trace;
  const m = await Modem.open(module, {
    ...modemOptions,
    at: {
      ...modemOptions.at,
      trace: (e: AtTraceEvent) => {
        trace.push(e);
        if (e.dir === 'out' && e.kind === 'command') commands.push(e.text!);
        userTrace?.(e);
      },
    },
  });
  cleanups.push(() => module.dispose(), () => m.close());
  commands.length = 0;
  return { modem: m, module, commands, trace };
}

/** A TCP server with a handler; closed at cleanup with every socket destroyed. */
export async function tcpServer(onConn: (s: NetSocket) => void): Promise<{ server: Server; port: number; sockets: Set<NetSocket> }> {
  const sockets = new Set<NetSocket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as { port: number }).port, sockets };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settles within `ms` or resolves to 'HUNG'. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | 'HUNG'> {
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'HUNG'>((res) => (t = setTimeout(() => res('HUNG'), ms)))]);
  clearTimeout(t);
  return r;
}

export const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
