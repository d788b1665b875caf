/**
 * A real pseudo-terminal pair from socat, for tests that need the native serialport binding on a device:
 * bytes written to one end come out of the other, and killing socat hangs both ends up like a pulled cable.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Two linked ptys and the socat process joining them. */
export interface SocatPair {
  /** Stable symlink to the first pty. */
  readonly pathA: string;
  /** Stable symlink to the second pty. */
  readonly pathB: string;
  /** Kills socat (both ends hang up), waits for it to exit and removes the temp dir. Safe to call twice. */
  close(): Promise<void>;
}

/** How to start a {@link SocatPair}. */
export interface SocatPairOptions {
  /** Give up when socat has not made both links by then. Default: 5000. */
  readonly timeoutMs?: number;
}

const INSTALL_HINT = 'socat is not installed; install it (Debian: apt-get update && apt-get install -y socat)';

/**
 * Starts `socat -d -d pty,raw,echo=0,link=DIR/a pty,raw,echo=0,link=DIR/b` in a fresh temp dir and waits until
 * both links exist and socat entered its transfer loop.
 * @throws Error naming the fix when socat is missing, or with socat's stderr when it does not come up in time.
 */
export async function startSocatPair(options: SocatPairOptions = {}): Promise<SocatPair> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const dir = await mkdtemp(join(tmpdir(), 'ussl-socat-'));
  const pathA = join(dir, 'a');
  const pathB = join(dir, 'b');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${pathA}`, `pty,raw,echo=0,link=${pathB}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    let settled = false;
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new Error(INSTALL_HINT, { cause: error }) : error);
      });
      const deadline = Date.now() + timeoutMs;
      const poll = (): void => {
        if (settled) {
          return;
        } else if (exitedEarly) {
          reject(new Error(`socat exited before the ptys were ready; its stderr:\n${stderr}`));
        } else if (existsSync(pathA) && existsSync(pathB) && stderr.includes('starting data transfer loop')) {
          resolve();
        } else if (Date.now() > deadline) {
          reject(new Error(`socat did not make ${pathA} and ${pathB} within ${timeoutMs} ms; its stderr:\n${stderr}`));
        } else {
          setTimeout(poll, 10);
        }
      };
      poll();
    }).finally(() => (settled = true));
  } catch (e) {
    await close();
    throw e;
  }
  return { pathA, pathB, close };
}
