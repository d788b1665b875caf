/**
 * The module's six SSL contexts (`AT+QSSLCFG`, quectel-at.md §2): each is configured once with a set of settings and
 * reused by every open that wants the same settings, so a warm open costs no `AT+QSSLCFG` at all. After a restart
 * the module has forgotten them (EG800K keeps none, T15): the restore hook configures again every one in use.
 */
import { QuectelError } from '../../errors.js';
import { formatCipherCode } from '../../protocol/cipherSuites.js';
import type { ServiceHost } from './ServiceHost.js';

export const SSL_CONTEXTS = 6;

/**
 * The settings of one context, as `AT+QSSLCFG` takes them. Paths are as the family writes them (`UFS:ca.pem`);
 * a setting the firmware does not list (`sni` on BG96 V1.0) is left out by the caller.
 */
export interface SslSettings {
  /** 0 SSL3.0, 1 TLS1.0, 2 TLS1.1, 3 TLS1.2, 4 all. */
  readonly sslversion: number;
  /** One suite's code, or 0xFFFF for all the firmware lists. */
  readonly ciphersuite: number;
  /** 0 none, 1 server authentication, 2 server and client. */
  readonly seclevel: 0 | 1 | 2;
  readonly cacert?: string;
  readonly clientcert?: string;
  readonly clientkey?: string;
  readonly ignorelocaltime?: 0 | 1;
  /** Seconds, 10–300. */
  readonly negotiatetime?: number;
  readonly sni?: 0 | 1;
  readonly checkhost?: 0 | 1;
}

/** The order the settings go out in; paths before seclevel, as the manuals' examples do (§2.4). */
const ORDER: ReadonlyArray<keyof SslSettings> = [
  'sslversion', 'ciphersuite', 'cacert', 'clientcert', 'clientkey', 'seclevel', 'ignorelocaltime', 'negotiatetime', 'sni', 'checkhost',
];

function valueText(name: keyof SslSettings, value: string | number): string {
  if (name === 'ciphersuite') return formatCipherCode(value as number); // unquoted hex: the BG96 refuses quotes (T01)
  return typeof value === 'string' ? `"${value}"` : String(value);
}

interface Slot {
  /** What the module holds for this context, as far as the library knows; undefined after a restart. */
  applied: Map<keyof SslSettings, string | number> | undefined;
  /** What was last asked of it, to configure again after a restart. */
  wanted: SslSettings | undefined;
  users: number;
  lastUsed: number;
}

export class SslContextService {
  private readonly slots: Slot[] = Array.from({ length: SSL_CONTEXTS }, () => ({ applied: undefined, wanted: undefined, users: 0, lastUsed: 0 }));
  private clock = 0;

  constructor(private readonly host: ServiceHost) {
    host.on('socketsLost', () => {
      this.epoch++;
      for (const s of this.slots) s.applied = undefined;
    });
    // Contexts in use since the last restart are configured again before the modem is ready, so the next open with
    // the same settings is as warm as before (its files are checked by the next open's listing). Not under the lock:
    // whoever holds it may be waiting for the modem to be ready, which this restore is part of.
    host.onRestore(async (at, signal) => {
      for (const [ctx, s] of this.slots.entries()) {
        if (s.wanted && !signal.aborted) await this.apply(ctx, s.wanted, (c) => at.send(c, { signal }).then(() => undefined));
      }
    });
  }

  /** Counts restarts (and lost ports, lost PDP contexts): a configuration begun before one is void. */
  private epoch = 0;

  /** One choice and configuration at a time: two at once could pick the same free context and mix their settings. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * A context configured with `settings`: the one that already is (no command at all), else the least recently
   * used free one, configured with only the settings that differ from what it holds. Call {@link release} when
   * the connection that uses it closes.
   * @throws QuectelError `SSL_CONTEXTS_BUSY` when all six are in use with other settings; the engine's codes.
   */
  acquire(settings: SslSettings, signal?: AbortSignal): Promise<number> {
    const wanted = this.normalise(settings);
    return this.exclusive(async () => {
      let ctx = this.slots.findIndex((s) => s.applied !== undefined && this.same(s.applied, wanted));
      if (ctx >= 0) return this.use(ctx);
      // A file setting cannot be taken back (no AT+QSSLCFG form clears it): a context that names a CA or client
      // file these settings do not want is only usable where the module ignores files (seclevel 0).
      const free = this.slots.map((s, i) => ({ s, i }))
        .filter(({ s }) => s.users === 0 && !leftoverMatters(s.applied ?? (s.wanted ? this.normalise(s.wanted) : undefined), wanted))
        .sort((a, b) => a.s.lastUsed - b.s.lastUsed);
      // Prefer one that was never configured: nothing it holds is worth keeping.
      const pick = free.find(({ s }) => s.wanted === undefined) ?? free[0];
      if (!pick) {
        throw new QuectelError('SSL_CONTEXTS_BUSY', `all ${SSL_CONTEXTS} SSL contexts are in use with other settings, or name a CA or client file these settings do not want`);
      }
      ctx = pick.i;
      this.use(ctx); // reserved before the first await: nobody else can take it while it is configured
      try {
        await this.apply(ctx, settings, (c) => this.host.send(c, signal ? { signal } : {}).then(() => undefined));
      } catch (e) {
        this.release(ctx);
        throw e;
      }
      return ctx;
    });
  }

  private use(ctx: number): number {
    const slot = this.slots[ctx]!;
    slot.users++;
    slot.lastUsed = ++this.clock;
    return ctx;
  }

  /** A connection on `ctx` closed. */
  release(ctx: number): void {
    const s = this.slots[ctx];
    if (s && s.users > 0) s.users--;
  }

  /** Forgets what every context holds (after files they name were replaced, say): the next acquire configures. */
  invalidate(): void {
    for (const s of this.slots) s.applied = undefined;
  }

  private async apply(ctx: number, settings: SslSettings, send: (command: string) => Promise<void>): Promise<void> {
    const slot = this.slots[ctx]!;
    const wanted = this.normalise(settings);
    const epoch = this.epoch;
    slot.wanted = settings;
    const held = slot.applied ?? new Map<keyof SslSettings, string | number>();
    slot.applied = undefined; // while it changes, it holds nothing known
    for (const [name, value] of wanted) {
      if (held.get(name) === value) continue;
      await send(`AT+QSSLCFG="${name}",${ctx},${valueText(name, value)}`);
      // The module restarted in between: what was set before is gone, and what `held` says is no longer true.
      if (this.epoch !== epoch) throw new QuectelError('AT_MODULE_RESET', `the module restarted while SSL context ${ctx} was configured`, { ctx });
      held.set(name, value);
    }
    slot.applied = held;
  }

  private normalise(settings: SslSettings): Map<keyof SslSettings, string | number> {
    const params = this.host.info.sslParams;
    const out = new Map<keyof SslSettings, string | number>();
    for (const name of ORDER) {
      const v = settings[name];
      if (v === undefined) continue;
      if (!params.includes(name)) throw new QuectelError('NOT_SUPPORTED', `this firmware has no AT+QSSLCFG "${name}"`, { param: name });
      out.set(name, v);
    }
    return out;
  }

  private same(held: Map<keyof SslSettings, string | number>, wanted: Map<keyof SslSettings, string | number>): boolean {
    for (const [k, v] of wanted) if (held.get(k) !== v) return false;
    return !leftoverMatters(held, wanted);
  }
}

const FILE_SETTINGS: ReadonlyArray<keyof SslSettings> = ['cacert', 'clientcert', 'clientkey'];

/** The context names a file `wanted` does not, and `wanted` authenticates (seclevel 1 or 2), so the module would use it. */
function leftoverMatters(held: ReadonlyMap<keyof SslSettings, string | number> | undefined, wanted: ReadonlyMap<keyof SslSettings, string | number>): boolean {
  if (!held || Number(wanted.get('seclevel') ?? 0) === 0) return false;
  return FILE_SETTINGS.some((k) => held.has(k) && !wanted.has(k));
}
