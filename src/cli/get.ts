/**
 * `get URL`: an HTTPS GET through the module, like curl. Node's own HTTP client runs over a stream whose TLS is the
 * module's (`https.request({ createConnection: () => connectTls(modem, …) })`), so the module resolves the name,
 * does the handshake and verifies the server against `--ca`; the host sees plain HTTP. The body goes to stdout or
 * `-o FILE`; progress (on a terminal) and the summary go to stderr.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { PassThrough, Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import type { ReceiveMode } from '../modem/services/Connection.js';
import type { UsslModem } from '../ussl/UsslModem.js';
import { connectTls } from '../ussl/UsslModem.js';
import type { ConnectTlsOptions } from '../ussl/connectTls.js';
import type { TlsVersion } from '../ussl/tlsOptions.js';
import { HttpStatusError, UsageError } from './exitCodes.js';
import { formatBytes, formatMs, printJson, warn } from './output.js';
import { progressBar } from './progress.js';
import { checkReceive, receiveOption, withModem, type GlobalOptions } from './target.js';

/** Options of `get`. */
interface GetOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly cipher?: string;
  readonly tls?: '1.0' | '1.1' | '1.2' | '1.3';
  readonly output?: string;
  readonly location?: boolean;
  readonly fail?: boolean;
  readonly header?: readonly string[];
  /** The module's access mode: `buffer` unless asked. */
  readonly receive: ReceiveMode;
}

const TLS_NAMES: Readonly<Record<NonNullable<GetOptions['tls']>, TlsVersion>> = {
  '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3',
};
const MAX_REDIRECTS = 10;

/** `Name: value`, repeatable. */
function collectHeader(value: string, previous: readonly string[] = []): string[] {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[\x20-\x7e]*$/.test(value)) throw new UsageError(`-H wants "Name: value", got ${JSON.stringify(value)}`);
  return [...previous, value];
}

function httpsUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`only https:// URLs: the module does the TLS (got ${url.protocol}//)`);
  return url;
}

/** The module's TLS settings from the options; certificate files are read here (a missing one is exit 6). */
async function tlsSettings(o: GetOptions): Promise<Omit<ConnectTlsOptions, 'host' | 'port'>> {
  if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together');
  return {
    ...(o.ca !== undefined ? { cadata: await readFile(o.ca) } : {}),
    ...(o.cert !== undefined ? { cert: await readFile(o.cert) } : {}),
    ...(o.key !== undefined ? { key: await readFile(o.key) } : {}),
    ...(o.cipher !== undefined ? { ciphers: o.cipher } : {}),
    ...(o.tls !== undefined ? { min_version: TLS_NAMES[o.tls], max_version: TLS_NAMES[o.tls] } : {}),
    receive: o.receive,
  };
}

/** One GET; resolves with the response once its headers are in. */
function fetchOnce(modem: UsslModem, url: URL, tls: Omit<ConnectTlsOptions, 'host' | 'port'>, headers: Record<string, string>): Promise<IncomingMessage> {
  const host = url.hostname;
  const port = url.port === '' ? 443 : Number(url.port);
  return new Promise((resolve, reject) => {
    const req = request({
      host, port, path: `${url.pathname}${url.search}`, method: 'GET', headers,
      createConnection: () => connectTls(modem, { ...tls, host, port }),
    }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Counts and hashes what passes, and reports the count. */
function meter(onBytes: (n: number) => void): { stream: Transform; digest: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      n += chunk.length;
      onBytes(n);
      done(null, chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex'), bytes: () => n };
}

/** How long a server that was asked to close (`Connection: close`) may keep the connection after its answer. */
const PEER_CLOSE_MS = 1000;

/**
 * Reads a response away (a redirect's) and waits until its connection is gone: the next open must not find it still
 * on the module (transparent mode takes the port alone). The server closes it after the answer; one that does not
 * within {@link PEER_CLOSE_MS} has it closed here.
 */
async function discard(res: IncomingMessage): Promise<void> {
  const socket = res.socket;
  if (socket.closed) return;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  res.resume();
  await finished(res).catch(() => {});
  const timer = setTimeout(() => socket.destroy(), PEER_CLOSE_MS);
  await closed;
  clearTimeout(timer);
}

async function runGet(text: string, o: GetOptions & GlobalOptions): Promise<void> {
  checkReceive(o, o.receive);
  let url = httpsUrl(text);
  const tls = await tlsSettings(o);
  if (tls.cadata === undefined) warn('the server\'s certificate is not verified; give --ca FILE to verify it');
  const headers: Record<string, string> = { 'user-agent': 'ussl-bridge', accept: '*/*' };
  for (const h of o.header ?? []) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  await withModem(o, { servers: true }, async (modem, target) => {
    const mark = target.meter.count;
    const t0 = performance.now();
    let res = await fetchOnce(modem, url, tls, headers);
    for (let hops = 0; o.location === true && res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location; hops++) {
      if (hops === MAX_REDIRECTS) throw new HttpStatusError(res.statusCode, `more than ${MAX_REDIRECTS} redirects`);
      url = httpsUrl(new URL(res.headers.location, url).toString());
      await discard(res);
      res = await fetchOnce(modem, url, tls, headers);
    }
    const status = res.statusCode ?? 0;
    if (o.fail === true && status >= 400) {
      res.resume();
      throw new HttpStatusError(status, `${url.href}: the server answered ${status} ${res.statusMessage ?? ''}`.trim());
    }
    const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    // Like curl: no bar when the body itself goes to the terminal, where the two would write over each other.
    const bar = progressBar(length, o.json !== true && (o.output !== undefined || process.stdout.isTTY !== true));
    const m = meter((n) => bar.update(n));
    const sink = o.output !== undefined ? createWriteStream(o.output)
      : o.json === true ? new Writable({ write: (_c, _e, done) => done() }) : new PassThrough();
    if (sink instanceof PassThrough) sink.pipe(process.stdout, { end: false });
    try {
      await pipeline(res, m.stream, sink);
    } finally {
      bar.stop();
    }
    const ms = performance.now() - t0;
    const result = {
      url: url.href, status, statusText: res.statusMessage ?? '', httpVersion: res.httpVersion, headers: res.headers,
      bytes: m.bytes(), sha256: m.digest(), ms: Math.round(ms), file: o.output ?? null, verified: tls.cadata !== undefined,
      module: target.label, receive: o.receive, atCommands: target.meter.count - mark,
    };
    if (o.json === true) {
      printJson(result);
      return;
    }
    const rate = ms > 0 ? `${formatBytes(Math.round(result.bytes / (ms / 1000)))}/s` : '';
    process.stderr.write(`HTTP/${result.httpVersion} ${status} ${result.statusText}: ${formatBytes(result.bytes)} in ${formatMs(ms)} (${rate}), ` +
      `sha256 ${result.sha256}${o.output !== undefined ? `, saved to ${o.output}` : ''}; ${result.atCommands} AT commands on ${target.label}` +
      `${o.receive === 'buffer' ? '' : ` in ${o.receive} mode`}\n`);
  });
}

/** Adds `get URL` to the program. */
export function registerGet(program: Command): void {
  program.command('get')
    .description('an HTTPS GET through the module, like curl; the body goes to stdout or -o FILE')
    .argument('<url>', 'https:// URL')
    .option('--ca <file>', 'CA certificates (PEM) to verify the server against; without it the server is not verified')
    .option('--cert <file>', 'client certificate (PEM), for servers that require one; with --key')
    .option('--key <file>', 'the client certificate\'s private key (PEM, unencrypted)')
    .option('--cipher <name>', 'one cipher suite: IANA or OpenSSL name, or code (see ussl-bridge ciphers)')
    .addOption(new Option('--tls <version>', 'only this TLS version').choices(Object.keys(TLS_NAMES)))
    .option('-o, --output <file>', 'write the body to FILE instead of stdout')
    .option('-H, --header <header>', 'an extra request header, "Name: value" (repeatable)', collectHeader)
    .option('-L, --location', `follow redirects (at most ${MAX_REDIRECTS}, https only)`)
    .option('-f, --fail', 'exit 7 when the server answers with a status of 400 or more')
    .addOption(receiveOption())
    .addHelpText('after', '\nWithout --port the virtual module resolves myssl.com (and mtls.myssl.com) to local demo servers.\n\n' +
      'Examples:\n  $ ussl-bridge get https://myssl.com/\n  $ ussl-bridge --json get -o index.html https://myssl.com/\n' +
      '  $ ussl-bridge --port /dev/ttyUSB2 --apn internet get --ca isrg-root-x1.pem --tls 1.2 https://letsencrypt.org/\n' +
      '  $ ussl-bridge get --cert client.pem --key client.key --ca ca.pem https://mtls.example.com/\n' +
      '  $ ussl-bridge get --receive push https://myssl.com/\n' +
      '  $ ussl-bridge --port /dev/ttyUSB2 --data-urc-port usbmodem get --receive transparent -o fw.bin https://example.com/fw.bin\n')
    .action(async (url: string, _o: unknown, cmd: Command) => {
      await runGet(url, cmd.optsWithGlobals<GetOptions & GlobalOptions>());
    });
}
