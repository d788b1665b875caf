/**
 * `ussl-bridge emulate` as a child process (the built CLI; test/globalSetup.ts builds it when stale), with what the
 * server tests read of it: its URL, its open file descriptors, its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface EmulateProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  out(): string;
  err(): string;
  /** Open descriptors of the process (Linux /proc). */
  fds(): number;
  /** Process ids of its children (socat). */
  children(): number[];
}

export async function startEmulate(args: readonly string[], timeoutMs = 10_000): Promise<EmulateProcess> {
  const child = spawn(process.execPath, [CLI, 'emulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulate did not start: ${out} ${err}`)), timeoutMs);
    const check = () => {
      const m = / on (\S+); Ctrl-C/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`emulate exited early: ${out} ${err}`)));
  });
  return {
    child, url, exited, out: () => out, err: () => err,
    fds: () => readdirSync(`/proc/${child.pid}/fd`).length,
    children: () => {
      try {
        return readdirSync(`/proc/${child.pid}/task`).flatMap((t) =>
          readFileSync(`/proc/${child.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch {
        return []; // it has exited
      }
    },
  };
}

/** Stops an `emulate` process left running by a test (SIGTERM) and waits for it to exit; nothing for one that ended. */
export async function stopEmulate(emu: EmulateProcess | undefined): Promise<void> {
  if (!emu || emu.child.exitCode !== null || emu.child.signalCode !== null) return;
  emu.child.kill('SIGTERM');
  await emu.exited;
}

/** Polls `check` until it holds, failing with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
