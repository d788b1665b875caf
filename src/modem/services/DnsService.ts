/**
 * Name resolution by the module (quectel-at.md §7.3): `AT+QIDNSGIP` answers `OK`, then `+QIURC: "dnsgip",<err>,
 * <count>,<ttl>` and one `+QIURC: "dnsgip","<ip>"` per address. Those URCs do not name the host they answer, so
 * queries run one at a time. `AT+QIDNSCFG` reads and sets the servers.
 */
import { isIP } from 'node:net';
import { QuectelError } from '../../errors.js';
import { QI_ERRORS } from '../../protocol/errorCodes.js';
import { atText } from '../atText.js';
import type { LossCause } from '../connection/connectionMachine.js';
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

const LOSS_TEXT: Record<LossCause, string> = {
  restart: 'the module restarted', port: 'the port was lost', pdp: 'the network dropped the PDP context',
};

/** One `AT+QIDNSGIP` whose answer the service waits for. */
interface Query {
  readonly name: string;
  /** Addresses the header announced; undefined until it came. */
  expected?: number;
  readonly addresses: string[];
  /** The caller was answered (with the addresses, a failure, a timeout or an abort). */
  settled: boolean;
  readonly resolve: (addresses: string[]) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class DnsService {
  /** Queries sent and not yet answered by the module, oldest first: it answers them in that order. */
  private readonly waiting: Query[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: ServiceHost) {
    host.on('urc', (line) => this.onUrc(line));
    // A restart, a lost port or PDP context: no answer will come for what was asked.
    host.on('socketsLost', (why) => this.abandon(new QuectelError('DNS_FAILED', `${LOSS_TEXT[why]} before the name was resolved`), why === 'pdp'));
  }

  /**
   * The addresses of `name`, as the module's DNS gives them; an address literal is returned as it is, with no
   * command sent. Queries go out one at a time: `+QIURC: "dnsgip"` does not name the host it answers.
   * @throws QuectelError `INVALID_ARGUMENT`, `NOT_SUPPORTED` (no AT+QIDNSGIP on NB-IoT modules), `DNS_FAILED`
   *   (context.moduleError, e.g. 565), `AT_ABORTED`, the engine's codes.
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

  /**
   * Fails every query waiting for an answer. `lateAnswers`: the module still runs them (the PDP context dropped),
   * so they keep their place in line and their answers are taken for them, never for the next name; otherwise
   * (a restart, another port) no answer will come and the line is cleared.
   */
  abandon(error: Error, lateAnswers = false): void {
    for (const q of lateAnswers ? this.waiting : this.waiting.splice(0)) this.settle(q, error);
  }

  /**
   * Sends one query and resolves when its answer came. A caller that gives up (timeout, abort) is answered at
   * once, but the query stays in line until its answer comes, so that answer is never taken for the next one's.
   */
  private query(name: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number }): Promise<string[]> {
    const ctx = this.host.options.pdpContext ?? 1;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new QuectelError('AT_ABORTED', `resolving ${name} was aborted`));
    return new Promise<string[]>((resolve, reject) => {
      const onAbort = () => this.settle(q, new QuectelError('AT_ABORTED', `resolving ${name} was aborted`));
      const q: Query = {
        name, addresses: [], settled: false,
        resolve: (a) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(a);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const limit = options.timeoutMs ?? DNS_TIMEOUT_MS;
      q.timer = setTimeout(() => this.settle(q, new QuectelError('DNS_FAILED', `no answer for ${name} within ${limit} ms`, { host: name })), limit);
      // A query given up on waits in line for its late answer, but not past the manual's maximum (§7.3: 60 s).
      const expiry = setTimeout(() => this.forget(q), Math.max(limit, DNS_TIMEOUT_MS) + 5000);
      expiry.unref();
      // In line before the command goes out: the first URC can follow its OK at once.
      this.waiting.push(q);
      this.host.send(`AT+QIDNSGIP=${ctx},"${name}"`, { qiErrorDetail: true, ...(signal ? { signal } : {}) })
        .catch((e: unknown) => {
          // Refused or never sent: no answer will come for it.
          this.forget(q);
          this.settle(q, e instanceof QuectelError && e.code === 'AT_ERROR'
            ? new QuectelError('DNS_FAILED', `cannot resolve ${name}: ${e.message}`, { host: name, moduleError: e.context.qiError }, { cause: e })
            : e instanceof Error ? e : new Error(String(e)));
        });
    });
  }

  private forget(q: Query): void {
    const i = this.waiting.indexOf(q);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private settle(q: Query, outcome: string[] | Error): void {
    if (q.settled) return;
    q.settled = true;
    clearTimeout(q.timer);
    if (outcome instanceof Error) q.reject(outcome);
    else q.resolve(outcome);
  }

  /** `+QIURC: "dnsgip",<err>[,<count>,<ttl>]` then `<count>` × `+QIURC: "dnsgip","<ip>"`, for the oldest query. */
  private onUrc(line: string): void {
    if (!line.startsWith('+QIURC: "dnsgip",')) return;
    const q = this.waiting[0];
    if (!q) return; // an answer to a query the service no longer knows (before a restart): nobody's
    const rest = line.slice('+QIURC: "dnsgip",'.length);
    const head = /^(\d+)(?:,(\d+),(\d+))?$/.exec(rest);
    if (head && q.expected === undefined) {
      const err = Number(head[1]);
      if (err !== 0 || Number(head[2] ?? 0) === 0) {
        this.waiting.shift();
        return this.settle(q, new QuectelError('DNS_FAILED',
          err !== 0 ? `cannot resolve ${q.name}: ${err} ${QI_ERRORS[err] ?? ''}`.trim() : `${q.name} has no address`, { host: q.name, moduleError: err }));
      }
      q.expected = Number(head[2]);
      return;
    }
    const ip = /^"([^"]+)"$/.exec(rest)?.[1];
    if (ip === undefined || q.expected === undefined) return;
    q.addresses.push(ip);
    if (q.addresses.length >= q.expected) {
      this.waiting.shift();
      this.settle(q, q.addresses);
    }
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
