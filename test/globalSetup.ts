/**
 * Tests that run the built package (the CLI, `dist/index.js` in a child process, the README examples) need `dist/`
 * as of the current sources. `npm test` builds first (pretest); a single file run with `npx vitest run FILE` gets
 * the same here: when any source is newer than the build, it builds once before the tests start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  const stale = !existsSync(built) || newest(join(ROOT, 'src')) > newest(join(ROOT, 'dist')) ||
    statSync(join(ROOT, 'package.json')).mtimeMs > statSync(built).mtimeMs;
  if (!stale) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT, stdio: 'inherit',
  });
}
