/**
 * A terminal for tests of interactive commands: a tmux session on its own server socket in the temporary folder (a
 * developer's tmux is never touched, and nothing is left behind), driven with `send-keys` and read with
 * `capture-pane`. Waits poll the pane for what is expected; there are no fixed sleeps.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmuxSession {
  /** Types keys: text as given, or tmux key names (`Enter`, `Up`, `C-d`, `C-c`). */
  keys(...keys: string[]): void;
  /** Types text literally (no key-name lookup), then nothing else. */
  type(text: string): void;
  /** The visible pane, trailing blank lines removed. */
  pane(): string;
  /** Waits until the pane matches; fails with the pane's content. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Ends the session and its server. */
  kill(): void;
}

/**
 * Starts `command` (a shell command line) in a new detached session of `width`×`height`; when it ends the pane
 * shows `[exited <status>]`.
 */
export function startTmux(command: string, options: { readonly width?: number; readonly height?: number; readonly env?: Readonly<Record<string, string | undefined>> } = {}): TmuxSession {
  const socket = join(tmpdir(), `ussl-tmux-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env });
  // The pane outlives the command, which ends with a line giving its exit status: `[exited 0]`.
  const shell = `${command}; echo "[exited $?]"; exec sleep 3600`;
  tmux('new-session', '-d', '-s', 't', '-x', String(options.width ?? 160), '-y', String(options.height ?? 50), shell);
  const pane = () => tmux('capture-pane', '-p', '-t', 't').replace(/\s+$/, '');
  return {
    keys: (...keys) => void tmux('send-keys', '-t', 't', ...keys),
    type: (text) => void tmux('send-keys', '-t', 't', '-l', text),
    pane,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = pane();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`the pane never matched ${pattern}:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
      rmSync(socket, { force: true });
    },
  };
}
