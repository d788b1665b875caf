/**
 * Name resolution by the module (quectel-at.md §7.3): `AT+QIDNSGIP` answers `OK`, then `+QIURC: "dnsgip",<err>,
 * <count>,<ttl>` and one `+QIURC: "dnsgip","<ip>"` per address. Those URCs do not name the host they answer, so
 * queries run one at a time. `AT+QIDNSCFG` reads and sets the servers.
 */
import { isIP } from 'node:net';
import { QuectelError } from '../../errors.js';
import { QI_ERRORS } from '../../protocol/errorCodes.js';
import { atText } from '../atText.js';
import type { ServiceHost } from './ServiceHost.js';

/** §7.3: the manual's maximum response time of AT+QIDNSGIP. */
const DNS_TIMEOUT_MS = 60_000;

/**
 * Checks a host name or address before it goes into a command: printable ASCII without quotes, commas or spaces,
 * at most 253 characters (a DNS name's limit; the manuals state none for `<serveraddr>`).
 * @throws QuectelError `INVALID_ARGUMENT`
 */
export function hostName(host: string): string {
  atText(host, 'host name', 253);
  if (host === '' || /\s/.test(host)) throw new QuectelError('INVALID_ARGUMENT', `host name is invalid: ${JSON.stringify(host)}`, { what: 'host name' });
  return host;
}

export class DnsService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: ServiceHost) {}

  /**
   * The addresses of `name`, as the module's DNS gives them; an address literal is returned as it is, with no
   * command sent.
   * @throws QuectelError `INVALID_ARGUMENT`, `NOT_SUPPORTED` (no AT+QIDNSGIP on NB-IoT modules), `DNS_FAILED`
   *   (context.moduleError, e.g. 565), the engine's codes.
   */
  resolve(name: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {}): Promise<string[]> {
    hostName(name);
    if (isIP(name) !== 0) return Promise.resolve([name]);
    if (this.host.info.family === 'nb-iot') {
      return Promise.reject(new QuectelError('NOT_SUPPORTED', `name resolution (AT+QIDNSGIP) is not supported on ${this.host.info.model}`));
    }
    const run = this.queue.then(() => this.query(name, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private query(name: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number }): Promise<string[]> {
    const ctx = this.host.options.pdpContext ?? 1;
    return new Promise<string[]>((resolve, reject) => {
      let expected: number | undefined;
      const addresses: string[] = [];
      const done = (e?: Error) => {
        this.host.off('urc', onUrc);
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(addresses);
      };
      // The waiter is in place before the command goes out: the first URC can follow its OK at once.
      const onUrc = (line: string) => {
        if (!line.startsWith('+QIURC: "dnsgip",')) return;
        const rest = line.slice('+QIURC: "dnsgip",'.length);
        const head = /^(\d+)(?:,(\d+),(\d+))?$/.exec(rest);
        if (head && expected === undefined) {
          const err = Number(head[1]);
          if (err !== 0) {
            return done(new QuectelError('DNS_FAILED', `cannot resolve ${name}: ${err} ${QI_ERRORS[err] ?? ''}`.trim(), { host: name, moduleError: err }));
          }
          expected = Number(head[2] ?? 0);
          if (expected === 0) return done(new QuectelError('DNS_FAILED', `${name} has no address`, { host: name, moduleError: 0 }));
          return;
        }
        const ip = /^"([^"]+)"$/.exec(rest)?.[1];
        if (ip !== undefined && expected !== undefined) {
          addresses.push(ip);
          if (addresses.length >= expected) done();
        }
      };
      const timer = setTimeout(() => done(new QuectelError('DNS_FAILED', `no answer for ${name} within the DNS timeout`, { host: name })),
        options.timeoutMs ?? DNS_TIMEOUT_MS);
      this.host.on('urc', onUrc);
      this.host.send(`AT+QIDNSGIP=${ctx},"${name}"`, { qiErrorDetail: true, ...(options.signal ? { signal: options.signal } : {}) })
        .catch((e: unknown) => done(e instanceof QuectelError && e.code === 'AT_ERROR'
          ? new QuectelError('DNS_FAILED', `cannot resolve ${name}: ${e.message}`, { host: name, moduleError: e.context.qiError }, { cause: e })
          : e as Error));
    });
  }

  /** The DNS servers of the PDP context (`AT+QIDNSCFG=<ctx>`). */
  async servers(options: { readonly signal?: AbortSignal } = {}): Promise<{ readonly primary: string; readonly secondary: string }> {
    const ctx = this.host.options.pdpContext ?? 1;
    const r = await this.host.send(`AT+QIDNSCFG=${ctx}`, { expect: ['+QIDNSCFG:'], ...options });
    const m = /^\+QIDNSCFG:\s*\d+,\s*"([^"]*)"(?:,\s*"([^"]*)")?/.exec(r.lines[0] ?? '');
    if (!m) throw new QuectelError('AT_BAD_REPLY', `AT+QIDNSCFG answered ${JSON.stringify(r.lines)}`);
    return { primary: m[1]!, secondary: m[2] ?? '' };
  }

  /** Sets the DNS servers of the PDP context; each must be an IP address. */
  async setServers(primary: string, secondary?: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    for (const a of [primary, ...(secondary === undefined ? [] : [secondary])]) {
      if (isIP(a) === 0) throw new QuectelError('INVALID_ARGUMENT', `a DNS server must be an IP address: ${JSON.stringify(a)}`);
    }
    const ctx = this.host.options.pdpContext ?? 1;
    await this.host.send(`AT+QIDNSCFG=${ctx},"${primary}"${secondary === undefined ? '' : `,"${secondary}"`}`, options.signal ? { signal: options.signal } : {});
  }
}
