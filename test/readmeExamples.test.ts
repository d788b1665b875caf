/**
 * Every TypeScript example in the README is a file in examples/, byte for byte, and every file there runs as shown:
 * `npx tsx examples/<name>.ts`, against the built package (test/globalSetup.ts builds it when stale).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const files = readdirSync(`${ROOT}examples`).filter((f) => f.endsWith('.ts')).sort();
const sources = new Map(files.map((f) => [f, readFileSync(`${ROOT}examples/${f}`, 'utf8')]));

test('each README ts block is a file in examples/, and each file is in the README', () => {
  expect(blocks.length).toBeGreaterThan(0);
  const matched = blocks.map((b) => [...sources].find(([, text]) => text === b)?.[0]);
  expect(matched.filter((m) => m === undefined), 'README blocks with no identical file in examples/').toEqual([]);
  expect(files.filter((f) => !matched.includes(f)), 'examples missing from the README').toEqual([]);
});

function run(file: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [`${ROOT}node_modules/tsx/dist/cli.mjs`, `examples/${file}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, out });
  }));
}

const EXPECTED: Readonly<Record<string, RegExp>> = {
  'atClient.ts': /^\+CPIN: READY\nsslversion ciphersuite .* negotiatetime\n\+QIURC: "dnsgip","127\.0\.0\.1"\n$/,
  'modem.ts': /^EC25 connected\.ready 10\.7\.157\.1\n\+QSSLCFG: "sslversion",1,4\n$/,
  'virtualModule.ts': /^\+QFUPL: 10,3938 \| OK\n$/,
  'seedOneWay.ts': /^write 61 bytes\nread \d+ bytes:\nHTTP\/1\.1 200 OK\r\n[\s\S]*Hello from myssl\.com: TLS TLSv1\.2, \S+, client anonymous\n\n-+Socket Ussl End-+\n$/,
  'seedTwoWay.ts': /^Hello from myssl\.com: TLS TLSv1\.2, \S+, client ussl-bridge demo client\n\n$/,
  'modemUssl.ts': /^EC25: TLS open, \d+ AT commands the first time, 1 the second\nHTTP\/1\.1 200 OK\n$/,
  'httpsRequest.ts': /^200 Hello from myssl\.com: TLS TLSv1\.2, \S+, client anonymous\n$/,
  'accessModes.ts': /^buffer: HTTP\/1\.1 200 OK, \d+ AT commands\npush: HTTP\/1\.1 200 OK, 2 AT commands\ntransparent: HTTP\/1\.1 200 OK, 2 AT commands\n$/,
};

test.each(files)('examples/%s runs with npx tsx and prints what its comments say', async (file) => {
  const r = await run(file);
  expect(r.code, r.out).toBe(0);
  expect(EXPECTED[file], `no expectation for ${file}`).toBeDefined();
  expect(r.out).toMatch(EXPECTED[file]!);
}, 30_000);
