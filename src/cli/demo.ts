/**
 * `ussl-bridge demo` (what `npm start` runs): the seed's two QuecPython examples through the library's ussl API,
 * one line per step with its time and the AT commands it cost. Without `--port`: a virtual module, `myssl.com` (a
 * local HTTPS server) and `mtls.myssl.com` (one that requires a client certificate and reports the subject it saw).
 * The two-way example runs twice: the second time the certificate files are already on the module and the SSL
 * context is warm, so the TLS open is one AT command. With `--port URL --url https://host/` it runs against a real
 * module and that server (two-way only with `--cert` and `--key`). A model without SSL (BC25) says so, shows the
 * error a program gets, and exits 4.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DemoServers } from '../emulator/index.js';
import type { ReceiveMode } from '../modem/services/Connection.js';
import { prepareCredentials } from '../ussl/credentials.js';
import type { UsslModem } from '../ussl/UsslModem.js';
import { DemoSteps, serverReport, tlsWork } from './demoSteps.js';
import { UsageError } from './exitCodes.js';
import { formatMs, println, printJson } from './output.js';
import { checkReceive, openModem, receiveOption, resolveTarget, type GlobalOptions, type Target } from './target.js';

interface DemoOptions {
  readonly url?: string;
  readonly cert?: string;
  readonly key?: string;
  /** The access mode of every connection the examples open. */
  readonly receive: ReceiveMode;
}

/** Where the examples go and with what. */
interface Plan {
  readonly oneWay: { readonly host: string; readonly path: string };
  readonly twoWay: { readonly host: string; readonly path: string; readonly cert: Buffer | string; readonly key: Buffer | string } | undefined;
}

async function plan(o: DemoOptions, servers: DemoServers | undefined): Promise<Plan> {
  if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together');
  if (o.url === undefined) {
    if (!servers) throw new UsageError('with --port (or USSL_PORT), give --url https://host/: a server the module can reach');
    return {
      oneWay: { host: 'myssl.com', path: '/' },
      twoWay: { host: 'mtls.myssl.com', path: '/', cert: servers.pki.client.cert, key: servers.pki.client.key },
    };
  }
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(o.url)}`);
  }
  if (url.protocol !== 'https:' || (url.port !== '' && url.port !== '443')) throw new UsageError('--url must be https://host/ on port 443, as the seed\'s examples use');
  const target = { host: url.hostname, path: `${url.pathname}${url.search}` };
  return {
    oneWay: target,
    twoWay: o.cert !== undefined && o.key !== undefined ? { ...target, cert: await readFile(o.cert), key: await readFile(o.key) } : undefined,
  };
}

const statusLine = (data: Buffer) => data.toString('latin1').split('\r\n')[0] ?? '';

/** The server closes after its answer (HTTP/1.0): the library has then closed the module's id already. */
const closed = (_v: void, cmds: readonly string[]) =>
  cmds.some((c) => c.startsWith('AT+QSSLCLOSE')) ? 'closed (AT+QSSLCLOSE)' : 'already closed: the server closed first, and the read closed the id';

/** The read's result: size, status line and, from the demo servers, the protocol and suite they negotiated. */
const answer = (d: Buffer) => {
  const seen = serverReport(d.toString('latin1'));
  return `${d.length} bytes: ${statusLine(d)}` + (seen ? `; the server saw ${seen.version}, ${seen.suite}` : '');
};

/** The seed's first example: getaddrinfo, connect, wrap_socket(server_hostname), write, read(256), close. */
async function oneWay(modem: UsslModem, steps: DemoSteps, p: Plan['oneWay'], receive: ReceiveMode): Promise<void> {
  const ex = 'one-way';
  const { usocket, ussl } = modem;
  steps.section(`example 1, one-way TLS: the seed's first example, to ${p.host}`);
  const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
  const addr = await steps.run(ex, `getaddrinfo('${p.host}', 443)`, async () => (await usocket.getaddrinfo(p.host, 443))[0]![4],
    (a) => `${a[0]} (resolved by the module)`);
  await steps.run(ex, `connect(('${addr[0]}', 443))`, () => sock.connect(addr), () => 'TCP connected');
  const ssock = await steps.run(ex, `wrap_socket(server_hostname=…)`, () => ussl.wrap_socket(sock, { server_hostname: p.host, receive }),
    (_s, cmds) => tlsWork(cmds, []));
  const request = `GET ${p.path} HTTP/1.0\r\nHost: ${p.host}\r\nAccept-Encoding: deflate\r\n\r\n`;
  await steps.run(ex, 'write(request)', () => ssock.write(request), (n) => `${n} bytes sent`);
  await steps.run(ex, 'read(256)', () => ssock.read(256), answer);
  await steps.run(ex, 'close()', () => ssock.close(), closed);
}

/** The seed's second example (cert and key), then again with the socket wrapped before it connects. */
async function twoWay(modem: UsslModem, steps: DemoSteps, p: NonNullable<Plan['twoWay']>, servers: DemoServers | undefined,
  receive: ReceiveMode): Promise<void> {
  const { usocket, ussl } = modem;
  const credentials = prepareCredentials({ cert: p.cert, key: p.key }).map((c) => c.name);
  const subject = (body: Buffer) => {
    const seen = serverReport(body.toString('latin1'));
    if (servers) return `the server saw client CN=${servers.twoWay.lastClient ?? '(none)'}`;
    return seen ? `the server reports client ${seen.client}` : 'the server does not report the client it saw';
  };
  const request = `GET ${p.path} HTTP/1.0\r\nHost: ${p.host}\r\n\r\n`;

  let ex = 'two-way';
  steps.section(`example 2, two-way TLS: the seed's second example, to ${p.host}${servers ? ', which requires a client certificate' : ''}`);
  const sock = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM);
  const addr = await steps.run(ex, `getaddrinfo('${p.host}', 443)`, async () => (await usocket.getaddrinfo(p.host, 443))[0]![4],
    (a) => `${a[0]} (resolved by the module)`);
  await steps.run(ex, `connect(('${addr[0]}', 443))`, () => sock.connect(addr), () => 'TCP connected');
  const ssock = await steps.run(ex, 'wrap_socket(…, cert=, key=)', () => ussl.wrap_socket(sock, { server_hostname: p.host, cert: p.cert, key: p.key, receive }),
    (_s, cmds) => tlsWork(cmds, credentials));
  await steps.run(ex, 'write(request)', () => ssock.write(request), (n) => `${n} bytes sent`);
  const body = await steps.run(ex, 'read()', () => ssock.read(), answer);
  steps.note(subject(body));
  await steps.run(ex, 'close()', () => ssock.close(), closed);

  ex = 'two-way, warm';
  steps.section('example 2 again, the socket wrapped before it connects: files on the module, SSL context warm');
  const warm = await steps.run(ex, 'wrap_socket(socket(), cert=, key=)', () => ussl.wrap_socket(usocket.socket(), { server_hostname: p.host, cert: p.cert, key: p.key, receive }),
    () => 'nothing sent yet: the socket is not connected');
  await steps.run(ex, `connect(('${p.host}', 443))`, () => warm.connect([p.host, 443]), (_v, cmds) =>
    `${cmds.length === 1 ? '1 AT command' : `${cmds.length} AT commands`}: ${tlsWork(cmds, credentials)}`);
  await steps.run(ex, 'write(request)', () => warm.write(request), (n) => `${n} bytes sent`);
  const again = await steps.run(ex, 'read()', () => warm.read(), answer);
  steps.note(subject(again));
  await steps.run(ex, 'close()', () => warm.close(), closed);
}

async function runDemo(g: GlobalOptions, o: DemoOptions): Promise<void> {
  checkReceive(g, o.receive);
  const target: Target = await resolveTarget(g, { servers: true });
  const steps = new DemoSteps(target.meter, g.json === true);
  const t0 = performance.now();
  let modem: UsslModem | undefined;
  let failure: unknown;
  try {
    const p = await plan(o, target.servers);
    if (!g.json) {
      println(`ussl-bridge demo on ${target.label}${target.virtual ? ` (${target.url.replace(/\?.*/, '')})` : ''}` +
        `${o.receive === 'buffer' ? '' : `, ${o.receive} mode`}`);
      for (const [name, address] of Object.entries(target.servers?.hosts ?? {})) {
        println(`  ${name} → ${address}${name.startsWith('mtls.') ? ' (HTTPS, client certificate required)' : ' (HTTPS)'}`);
      }
      println();
    }
    steps.header();
    steps.section('the module');
    modem = await steps.run('module', 'Modem.open()', () => openModem(target, g), (m) =>
      `${m.info.manufacturer} ${m.info.model}, firmware ${m.info.firmware}, ` +
      `${m.info.ssl ? `SSL with ${m.info.cipherSuites.length} cipher suites` : 'no SSL AT commands'}, IP ${m.ip ?? '—'}`);
    if (!modem.info.ssl) {
      steps.section(`${modem.info.model} ${modem.info.family === 'nb-iot' ? 'is an NB-IoT module ' : ''}without the SSL AT commands (AT+QSSLCFG): ` +
        'ussl is not supported on it, and a program gets this error:');
      const m = modem;
      await steps.run('one-way', `wrap_socket(server_hostname=…)`, () => m.ussl.wrap_socket(m.usocket.socket(), { server_hostname: p.oneWay.host }), () => '');
    }
    await oneWay(modem, steps, p.oneWay, o.receive);
    if (p.twoWay) await twoWay(modem, steps, p.twoWay, target.servers, o.receive);
    else steps.section('example 2 (two-way) skipped: give --cert and --key for a server that wants a client certificate');
  } catch (e) {
    failure = e;
  } finally {
    await modem?.close();
    await target.close();
  }
  const total = performance.now() - t0;
  const atCommands = steps.records.reduce((s, r) => s + r.atCommands, 0);
  if (g.json) {
    printJson({
      module: modem ? { label: target.label, ...modem.info } : { label: target.label }, receive: o.receive, ok: failure === undefined,
      steps: steps.records, ms: Math.round(total), atCommands,
    });
  } else if (failure === undefined) {
    println(`\ndone in ${formatMs(total)}, ${atCommands} AT commands`);
  }
  if (failure !== undefined) throw failure;
}

/** Adds `demo` to the program. */
export function registerDemo(program: Command): void {
  program.command('demo')
    .description('the seed\'s two ussl examples, step by step with times and AT commands (what npm start runs)')
    .option('--url <url>', 'the server for the examples (https://host/); needed with --port')
    .option('--cert <file>', 'client certificate (PEM) for the two-way example with --url; with --key')
    .option('--key <file>', 'its private key (PEM, unencrypted)')
    .addOption(receiveOption())
    .addHelpText('after', '\nExamples:\n  $ ussl-bridge demo\n  $ ussl-bridge demo --model BG96 --trace\n' +
      '  $ ussl-bridge demo --model BC25            # no SSL on this model: exit 4\n' +
      '  $ ussl-bridge demo --receive push          # no AT+QSSLRECV: the data comes in the URC\n' +
      '  $ ussl-bridge --port /dev/ttyUSB2 --apn internet demo --url https://example.com/\n')
    .action(async (_o: unknown, cmd: Command) => {
      await runDemo(cmd.optsWithGlobals<GlobalOptions & DemoOptions>(), cmd.opts<DemoOptions>());
    });
}
