/**
 * The built command line (`dist/cli/main.js`; test/globalSetup.ts builds it when stale) run as a person runs it: a
 * child process with its stdout, stderr and exit code. `USSL_PORT` is taken out of the environment, so a hardware
 * run (`USSL_PORT=/dev/ttyUSB2 npm test`) does not point these tests at the module.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** What a finished run left. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
  /** stdout as bytes, for bodies and files written to `-`. */
  readonly stdout: Buffer;
}

/** The environment for a child: this one without `USSL_PORT`, plus `extra`. */
export function cliEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.USSL_PORT;
  return env;
}

/** Runs `ussl-bridge ...args` to its end (killed after `timeoutMs`), with `input` on stdin. */
export function runCli(args: readonly string[], options: { readonly input?: string; readonly env?: Record<string, string>; readonly timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: cliEnv(options.env) });
  return finished(child, options.timeoutMs ?? 60_000, options.input);
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess, timeoutMs: number, input?: string): Promise<CliResult> {
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin?.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(killer);
    const stdout = Buffer.concat(out);
    resolve({ code, signal, out: stdout.toString(), err, stdout });
  }));
}
