/**
 * `AtClient`: the AT engine over any transport or URL, for programs and tests that speak AT themselves. It knows
 * the dialect (dialect.ts), so a command needs options only where it differs from what Quectel's manuals say:
 *
 * ```ts
 * const at = await AtClient.open('emulator:BG96');
 * await at.send('ATE0');
 * const { lines } = await at.send('AT+CPIN?');           // ['+CPIN: READY']: its own prefix is its reply
 * const { data } = await at.send('AT+QSSLRECV=0,1500');  // counted bytes, whatever they contain
 * await at.close();
 * ```
 */
import { openTransport, type OpenTransportOptions } from '../transport/openTransport.js';
import type { Transport } from '../transport/Transport.js';
import type { AtCommand, AtReply } from './AtCommand.js';
import { AtEngine, type AtEngineEvents, type AtEngineOptions } from './AtEngine.js';
import { AT_TIMEOUTS, commandDefaults, timeoutFor } from './dialect.js';

/** Options of {@link AtClient.open}: the engine's, the transport's, and a timeout table. */
export interface AtClientOptions extends AtEngineOptions, OpenTransportOptions {
  /** Deadlines by command name (`'+QSSLOPEN'`) and a `default`, over {@link AT_TIMEOUTS}. Default: the manuals'. */
  readonly timeouts?: Readonly<Record<string, number>>;
}

/** What {@link AtClient.send} takes besides the command line: everything of {@link AtCommand} but the line. */
export type SendOptions = Omit<AtCommand, 'command'>;

/** Only the options that were given: `{ expect: undefined }` must not wipe out what the dialect says. */
function given(options: SendOptions): SendOptions {
  let all = true;
  for (const key in options) if (options[key as keyof SendOptions] === undefined) all = false;
  if (all) return options;
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SendOptions;
}

export class AtClient {
  private readonly timeouts: Readonly<Record<string, number>>;

  private constructor(readonly engine: AtEngine, options: AtClientOptions) {
    this.timeouts = { ...AT_TIMEOUTS, ...options.timeouts };
  }

  /**
   * Opens a URL (`/dev/ttyUSB2?baud=921600`, `socket://host:port`, `emulator:EC25` once the root package is loaded)
   * or takes an open transport.
   * @throws QuectelError from the transport: `TRANSPORT_NOT_FOUND`, `TRANSPORT_BUSY`, `TRANSPORT_UNKNOWN_SCHEME`…
   */
  static async open(target: string | Transport, options: AtClientOptions = {}): Promise<AtClient> {
    const transport = typeof target === 'string' ? await openTransport(target, options) : target;
    return new AtClient(new AtEngine(transport, options), options);
  }

  /**
   * Sends one command; see {@link AtEngine.send} for the errors. What the options leave out comes from the dialect
   * (the command's own reply prefix, counted data, downloads, late results) and the timeout table.
   */
  send(command: string | Uint8Array, options: SendOptions = {}): Promise<AtReply> {
    const text = typeof command === 'string' ? command : '';
    const explicit = given(options);
    const { defaults, timeoutMs } = this.dialectOf(text, explicit.payload !== undefined);
    return this.engine.send({ ...defaults, ...explicit, command, timeoutMs: explicit.timeoutMs ?? timeoutMs });
  }

  /** What the dialect and the timeout table say of a line: the same for every `AT+QSSLSEND=0,1460`, so kept. */
  private dialectOf(text: string, hasPayload: boolean): { readonly defaults: Partial<AtCommand>; readonly timeoutMs: number } {
    const key = hasPayload ? `P${text}` : `-${text}`;
    let known = this.dialectCache.get(key);
    if (!known) {
      if (this.dialectCache.size >= 256) this.dialectCache.clear();
      known = { defaults: commandDefaults(text, hasPayload), timeoutMs: timeoutFor(text, this.timeouts) };
      this.dialectCache.set(key, known);
    }
    return known;
  }

  private readonly dialectCache = new Map<string, { readonly defaults: Partial<AtCommand>; readonly timeoutMs: number }>();

  /** Subscribes to URCs starting with `prefix`; returns the unsubscribe function. */
  onUrc(prefix: string, handler: (line: string, data: Uint8Array | undefined) => void): () => void {
    return this.engine.onUrc(prefix, handler);
  }

  /** Subscribes to the engine's `reset`, `unknown` and `close` events. */
  on<K extends 'reset' | 'unknown' | 'close'>(event: K, listener: (...args: AtEngineEvents[K]) => void): this {
    this.engine.on(event, listener as never);
    return this;
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
