/**
 * What the QuecPython API keeps per module: which certificate files the module is known to hold (trusted only after
 * a listing confirmed them, again after every restart or reconnect), and how a TLS connection is brought up from a
 * {@link TlsPlan}: files uploaded unless already there, an SSL context configured unless one already is, the clock
 * set if asked, then `AT+QSSLOPEN`. A second open with the same options therefore costs one command.
 */
import type { Modem } from '../modem/Modem.js';
import type { Connection } from '../modem/services/Connection.js';
import { CREDENTIAL_FILE, type Credential } from './credentials.js';
import type { TlsPlan } from './tlsOptions.js';

/** A TLS connection and the SSL context it holds. */
export interface TlsConnection {
  readonly connection: Connection;
  readonly sslContext: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The host's time as `AT+CCLK` takes it: `yy/MM/dd,hh:mm:ss±zz`, UTC (zz = quarter hours from UTC). */
function clockText(now: Date): string {
  return `${pad(now.getUTCFullYear() % 100)}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())},` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}+00`;
}

export class UsslSession {
  /** Name → size of the files a listing (or our own upload) showed since the last restart or reconnect. */
  private known: Map<string, number> | undefined;

  constructor(readonly modem: Modem) {
    modem.on('socketsLost', () => {
      this.known = undefined;
    });
    // Uploads and deletes made through the file service (by the application too) keep the cache true.
    modem.files.onChange((name, size) => {
      if (size === undefined) this.known?.delete(name);
      else this.known?.set(name, size);
    });
  }

  private filesQueue: Promise<unknown> = Promise.resolve();

  /**
   * Makes sure the module holds each file: one listing if the session knows nothing yet, then an upload for each
   * file that is missing or has another size (a name is derived from the content, so same name and size is the
   * same file). Returns the names that were uploaded.
   */
  ensureFiles(files: readonly Credential[], signal?: AbortSignal): Promise<string[]> {
    if (files.length === 0) return Promise.resolve([]);
    // One at a time: two first wraps with the same CA must not both upload it (the second QFUPL would find the
    // file the first one is writing).
    const run = this.filesQueue.then(() => this.ensureFilesNow(files, signal));
    this.filesQueue = run.catch(() => undefined);
    return run;
  }

  private async ensureFilesNow(files: readonly Credential[], signal?: AbortSignal): Promise<string[]> {
    // A restart or reconnect while this runs forgets the listing (this.known); what this run learnt is kept in
    // its own map, and only written back to a listing made since.
    const known = this.known ?? new Map((await this.modem.files.list(signal ? { signal } : {})).map((f) => [f.name, f.size]));
    this.known ??= known;
    const uploaded: string[] = [];
    for (const f of files) {
      if (known.get(f.name) === f.data.length) continue;
      // Not in the listing: nothing to delete first (one command less per file).
      await this.modem.files.upload(f.name, f.data, { sensitive: f.sensitive, knownAbsent: !known.has(f.name), ...(signal ? { signal } : {}) });
      known.set(f.name, f.data.length);
      uploaded.push(f.name);
    }
    return uploaded;
  }

  /** Opens a TLS connection as `plan` says, to `host:port` (`host` is the `<serveraddr>`: SNI and host check). */
  async openTls(plan: TlsPlan, host: string, port: number, signal?: AbortSignal): Promise<TlsConnection & { uploaded: string[] }> {
    const uploaded = await this.ensureFiles(plan.files, signal);
    const path = (kind: Credential['kind']) => {
      const f = plan.files.find((x) => x.kind === kind);
      return f === undefined ? undefined : this.modem.files.sslPath(f.name);
    };
    const ca = path('ca');
    const cert = path('cert');
    const key = path('key');
    const sslContext = await this.modem.sslContexts.acquire({
      ...plan.settings, ...(ca ? { cacert: ca } : {}), ...(cert ? { clientcert: cert } : {}), ...(key ? { clientkey: key } : {}),
    }, signal);
    try {
      if (plan.setClock) await this.modem.send(`AT+CCLK="${clockText(new Date())}"`, signal ? { signal } : {});
      const connection = await this.modem.connections.open({
        kind: 'ssl', host, port, sslContext, receive: plan.receive, timeoutMs: plan.openTimeoutMs, ...(signal ? { signal } : {}),
      });
      connection.once('close', () => this.modem.sslContexts.release(sslContext));
      return { connection, sslContext, uploaded };
    } catch (e) {
      this.modem.sslContexts.release(sslContext);
      throw e;
    }
  }

  /** The certificate and key files this library uploaded (their names follow {@link CREDENTIAL_FILE}). */
  async uploaded(): Promise<Array<{ readonly name: string; readonly size: number }>> {
    const files = await this.modem.files.list();
    this.known = new Map(files.map((f) => [f.name, f.size]));
    return files.filter((f) => CREDENTIAL_FILE.test(f.name));
  }

  /** Deletes every file this library uploaded; SSL contexts are configured afresh afterwards. Returns the names. */
  async removeUploaded(): Promise<string[]> {
    const names = (await this.uploaded()).map((f) => f.name);
    for (const n of names) {
      await this.modem.files.delete(n);
      this.known?.delete(n);
    }
    this.modem.sslContexts.invalidate();
    return names;
  }
}
