/**
 * `files ls|put|get|rm`: the module's file system (UFS) through the library's file service. An upload is checked
 * against the size and checksum the module reports (`+QFUPL: <size>,<checksum>`); a download is ended only by a
 * trailer whose size and checksum match the bytes before it, and its size is compared with the listing. Only
 * identification is needed, so this works on a module without SIM or network.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { QuectelError } from '../errors.js';
import { formatChecksum, quectelChecksum } from '../protocol/checksum.js';
import { FileCheckError } from './exitCodes.js';
import { formatBytes, println, printJson, table } from './output.js';
import { withProbe, type Probe } from './probe.js';
import type { GlobalOptions } from './target.js';

/** The module has no file commands (NB-IoT BC25): exit code 4 rather than a bare `ERROR`. */
function requireFiles(p: Probe): void {
  if (p.info.family === 'nb-iot') {
    throw new QuectelError('NOT_SUPPORTED', `${p.info.model} has no file commands (AT+QFLST, AT+QFUPL)`, { model: p.info.model });
  }
}

const checksum = (data: Uint8Array) => formatChecksum(quectelChecksum(data));

async function list(p: Probe, json: boolean): Promise<void> {
  const entries = await p.files.list();
  const space = await p.files.space().catch(() => undefined);
  if (json) {
    printJson({ files: entries, free: space?.free ?? null, total: space?.total ?? null });
    return;
  }
  if (entries.length > 0) println(table([{ header: 'name' }, { header: 'size', align: 'right' }], entries.map((e) => [e.name, String(e.size)])));
  const used = entries.reduce((s, e) => s + e.size, 0);
  println(`${entries.length} file${entries.length === 1 ? '' : 's'}, ${formatBytes(used)}` +
    (space ? `; ${formatBytes(space.free)} free of ${formatBytes(space.total)}` : ''));
}

async function put(p: Probe, local: string, remote: string | undefined, json: boolean): Promise<void> {
  const data = await readFile(local);
  const name = remote ?? basename(local);
  const t0 = performance.now();
  const stored = await p.files.upload(name, data);
  const result = { name: stored.name, size: stored.size, checksum: checksum(data), ms: Math.round(performance.now() - t0) };
  if (json) printJson(result);
  else println(`uploaded ${local} → ${result.name}: ${result.size} bytes, checksum ${result.checksum} verified by the module (${result.ms} ms)`);
}

async function get(p: Probe, remote: string, local: string | undefined, json: boolean): Promise<void> {
  const listed = await p.files.stat(remote);
  if (!listed) throw new QuectelError('FILE_NOT_FOUND', `no file ${remote} on the module`, { file: remote });
  const t0 = performance.now();
  const data = await p.files.download(remote);
  if (data.length !== listed.size) {
    throw new FileCheckError(`${remote}: downloaded ${data.length} bytes, the listing says ${listed.size}`);
  }
  const ms = Math.round(performance.now() - t0);
  if (local === '-') {
    process.stdout.write(data);
    return;
  }
  const path = local ?? basename(listed.name);
  await writeFile(path, data);
  const result = { name: listed.name, size: data.length, checksum: checksum(data), file: path, ms };
  if (json) printJson(result);
  else println(`downloaded ${result.name} → ${path}: ${result.size} bytes, checksum ${result.checksum} verified (${ms} ms)`);
}

async function remove(p: Probe, names: readonly string[], json: boolean): Promise<void> {
  const removed: string[] = [];
  const missing: string[] = [];
  for (const n of names) (await p.files.delete(n) ? removed : missing).push(n);
  if (json) printJson({ removed, missing });
  else for (const n of removed) println(`removed ${n}`);
  if (missing.length > 0) {
    throw new QuectelError('FILE_NOT_FOUND', `no file ${missing.join(', ')} on the module`, { file: missing.join(',') });
  }
}

/** Adds `files ls|put|get|rm` to the program. */
export function registerFiles(program: Command): void {
  const files = program.command('files')
    .description('list, upload, download and delete files in the module\'s file system (UFS), checksum verified')
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge files ls\n  $ ussl-bridge --port socket://127.0.0.1:7000 files put ca.pem\n' +
      '  $ ussl-bridge --port /dev/ttyUSB2 files get ca.pem - | openssl x509 -noout -subject\n  $ ussl-bridge files rm ca.pem\n');
  const run = (cmd: Command, work: (p: Probe, json: boolean) => Promise<void>) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    return withProbe(g, async (p) => {
      requireFiles(p);
      await work(p, g.json === true);
    });
  };
  files.command('ls')
    .description('list the files, with free space')
    .action((_o: unknown, cmd: Command) => run(cmd, (p, json) => list(p, json)));
  files.command('put')
    .description('upload LOCAL as REMOTE (default: its base name), replacing a file of that name')
    .argument('<local>', 'file on this computer')
    .argument('[remote]', 'name on the module')
    .action((local: string, remote: string | undefined, _o: unknown, cmd: Command) => run(cmd, (p, json) => put(p, local, remote, json)));
  files.command('get')
    .description('download REMOTE to LOCAL (default: its name in the current directory; - for stdout)')
    .argument('<remote>', 'name on the module')
    .argument('[local]', 'file on this computer, or - for stdout')
    .action((remote: string, local: string | undefined, _o: unknown, cmd: Command) => run(cmd, (p, json) => get(p, remote, local, json)));
  files.command('rm')
    .description('delete files')
    .argument('<remote...>', 'names on the module')
    .action((names: string[], _o: unknown, cmd: Command) => run(cmd, (p, json) => remove(p, names, json)));
}
