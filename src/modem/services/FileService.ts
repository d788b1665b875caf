/**
 * The module's user file system (quectel-at.md §6): list, upload with size and checksum checked, download,
 * delete, free space. Names are checked before they go into a command; the `UFS:` prefix some families print
 * (EC2x, EG800K, T16) is stripped from listings and added to paths where the family's SSL configuration uses it.
 */
import { isQuectelError, QuectelError } from '../../errors.js';
import { formatChecksum, parseChecksum, quectelChecksum } from '../../protocol/checksum.js';
import { atText } from '../atText.js';
import type { ServiceHost } from './ServiceHost.js';

/** One file in UFS. */
export interface FileEntry {
  /** The name without any drive prefix. */
  readonly name: string;
  readonly size: number;
}

/** Options of {@link FileService.upload}. */
export interface UploadOptions {
  /** Longest pause in the data the module tolerates, in seconds (`AT+QFUPL`'s `<timeout>`). Default: 10. */
  readonly gapTimeoutS?: number;
  /** The data is key material: no trace shows its bytes. Default: false. */
  readonly sensitive?: boolean;
  /**
   * The caller has just seen that no file of this name exists (a listing): the `AT+QFDEL` in front is skipped.
   * Should the module report the file exists after all (`+CME ERROR: 407`), it is deleted and the upload repeated.
   * Default: false.
   */
  readonly knownAbsent?: boolean;
  readonly signal?: AbortSignal;
}

/** Families whose SSL configuration names files with the `UFS:` prefix, as their manuals and Quectel's SDK do. */
const UFS_PREFIXED = /^(EC2|EG2|EG9|EC200|EG800|EC600|EC800|EG915)/;
const MAX_NAME = 80;

/**
 * Checks a file name before it goes into a command: printable ASCII without quotes, commas or `*`, at most 80
 * characters, an optional `UFS:` prefix (§6.1; EC25 refused a lowercase `ufs:`, T27).
 * @throws QuectelError `INVALID_ARGUMENT`
 */
export function fileName(name: string): string {
  const plain = typeof name === 'string' && name.startsWith('UFS:') ? name.slice(4) : name;
  atText(plain, 'file name', MAX_NAME);
  if (plain === '' || plain.includes('*') || /^[A-Za-z]+:/.test(plain) || plain.endsWith('/')) {
    throw new QuectelError('INVALID_ARGUMENT', `file name is invalid: ${JSON.stringify(name)}`, { what: 'file name' });
  }
  return plain;
}

export class FileService {
  private readonly watchers = new Set<(name: string, size: number | undefined) => void>();

  constructor(private readonly host: ServiceHost) {}

  /**
   * Calls `listener` with a file's name and new size (`undefined`: deleted) after each upload and delete made
   * through this service, so caches of what the module holds stay true. Returns the function that stops it.
   */
  onChange(listener: (name: string, size: number | undefined) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private changed(name: string, size: number | undefined): void {
    for (const w of this.watchers) w(name, size);
  }

  /** The name as this family's `AT+QSSLCFG` paths write it: `UFS:ca.pem` on EC2x and the like, `ca.pem` on BG9x. */
  sslPath(name: string): string {
    const plain = fileName(name);
    return UFS_PREFIXED.test(this.host.info.model) ? `UFS:${plain}` : plain;
  }

  /** The files in UFS (directories such as `security/` left out). */
  async list(options: { readonly signal?: AbortSignal } = {}): Promise<FileEntry[]> {
    const r = await this.host.send('AT+QFLST', { expect: ['+QFLST:'], ...options });
    return r.lines.flatMap((line) => {
      const m = /^\+QFLST:\s*"(?:UFS:)?([^"]*)",\s*(\d+)/.exec(line);
      return m && !m[1]!.endsWith('/') ? [{ name: m[1]!, size: Number(m[2]) }] : [];
    });
  }

  /** One file's entry, or undefined when there is no such file (`AT+QFLST="<name>"`). */
  async stat(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<FileEntry | undefined> {
    const plain = fileName(name);
    const r = await this.host.send(`AT+QFLST="${plain}"`, { expect: ['+QFLST:'], ...options }).catch((e: unknown) => {
      if (isQuectelError(e, 'AT_CME_ERROR') && e.context.cme === 405) return { lines: [] as string[] };
      throw e;
    });
    const m = r.lines.map((l) => /^\+QFLST:\s*"(?:UFS:)?([^"]*)",\s*(\d+)/.exec(l)).find((x) => x?.[1] === plain);
    return m ? { name: plain, size: Number(m[2]) } : undefined;
  }

  /**
   * Writes `data` to `name`, replacing any file of that name (`AT+QFDEL`, then `AT+QFUPL`; no delete with
   * `knownAbsent`), and checks the size and checksum the module reports against the bytes sent. A file that fails
   * the check is deleted again.
   * @throws QuectelError `INVALID_ARGUMENT` for a bad name; `FILE_UPLOAD_FAILED` (context.reason: `checksum`,
   *   `timeout`, `full`, `module`) and the engine's codes.
   */
  async upload(name: string, data: Uint8Array, options: UploadOptions = {}): Promise<FileEntry> {
    const plain = fileName(name);
    const gap = options.gapTimeoutS ?? 10;
    if (!Number.isInteger(gap) || gap < 1 || gap > 65_535) throw new QuectelError('INVALID_ARGUMENT', `gapTimeoutS must be 1-65535, got ${gap}`);
    // Checked before the delete below: the module refuses a 0-byte upload (+CME ERROR: 425), and by then the file
    // of that name would be gone.
    if (!(data instanceof Uint8Array) || data.length === 0) {
      throw new QuectelError('INVALID_ARGUMENT', `${plain}: an empty file cannot be uploaded (the module takes 1 byte or more)`, { file: plain });
    }
    if (options.knownAbsent !== true) await this.delete(plain, options);
    let lines: readonly string[];
    try {
      lines = await this.put(plain, data, gap, options).catch(async (e: unknown) => {
        // 407: the file exists after all (knownAbsent was wrong): replace it as without the hint.
        if (options.knownAbsent !== true || !isQuectelError(e, 'AT_CME_ERROR') || e.context.cme !== 407) throw e;
        await this.delete(plain, options);
        return this.put(plain, data, gap, options);
      });
    } catch (e) {
      const cme = isQuectelError(e, 'AT_CME_ERROR') ? e.context.cme : undefined;
      if (cme === 421) await this.delete(plain).catch(() => undefined); // a partial file stays after a timeout (T16)
      const reason = cme === 421 ? 'timeout' : cme === 403 || cme === 420 ? 'full' : 'module';
      throw new QuectelError('FILE_UPLOAD_FAILED', `uploading ${plain} (${data.length} bytes) failed: ${(e as Error).message}`,
        { file: plain, size: data.length, reason }, { cause: e });
    }
    const m = /^\+QFUPL:\s*(\d+),\s*([0-9A-Fa-f]+)/.exec(lines[0] ?? '');
    const expected = quectelChecksum(data);
    if (!m || Number(m[1]) !== data.length || parseChecksum(m[2]!) !== expected) {
      await this.delete(plain).catch(() => undefined);
      throw new QuectelError('FILE_UPLOAD_FAILED',
        `uploading ${plain}: the module stored ${lines[0] ?? 'nothing it reported'}, expected ${data.length} bytes with checksum ${formatChecksum(expected)}`,
        { file: plain, size: data.length, reason: 'checksum' });
    }
    this.changed(plain, data.length);
    return { name: plain, size: data.length };
  }

  /** One `AT+QFUPL` with its data; the module's answer lines. */
  private async put(plain: string, data: Uint8Array, gap: number, options: UploadOptions): Promise<readonly string[]> {
    const { lines } = await this.host.send(`AT+QFUPL="${plain}",${data.length},${gap}`, {
      payload: data, payloadAfter: 'connect', expect: ['+QFUPL:'], sensitive: options.sensitive === true,
      // The data flows at the line's pace: allow for a slow line on top of the command's own time.
      timeoutMs: 60_000 + data.length * 2, ...(options.signal ? { signal: options.signal } : {}),
    });
    return lines;
  }

  /**
   * Reads a file (`AT+QFDWL`); the engine ends it only at the trailer whose size and checksum match.
   * @throws QuectelError `FILE_NOT_FOUND`, and the engine's codes.
   */
  async download(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<Buffer> {
    const plain = fileName(name);
    try {
      const r = await this.host.send(`AT+QFDWL="${plain}"`, { download: true, expect: ['+QFDWL:'], timeoutMs: 600_000, ...options });
      return Buffer.from(r.data);
    } catch (e) {
      if (isQuectelError(e, 'AT_CME_ERROR') && e.context.cme === 405) {
        throw new QuectelError('FILE_NOT_FOUND', `no file ${plain} on the module`, { file: plain }, { cause: e });
      }
      throw e;
    }
  }

  /** Deletes a file; false when there was none (the error for a missing file differs by family, §6.4). */
  async delete(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<boolean> {
    const plain = fileName(name);
    try {
      await this.host.send(`AT+QFDEL="${plain}"`, options.signal ? { signal: options.signal } : {});
      return true;
    } catch (e) {
      if (isQuectelError(e, 'AT_CME_ERROR') || isQuectelError(e, 'AT_ERROR')) return false;
      throw e;
    } finally {
      // Whatever the answer, the file is not to be trusted any more.
      this.changed(plain, undefined);
    }
  }

  /** Free and total bytes of UFS (`AT+QFLDS="UFS"`). */
  async space(options: { readonly signal?: AbortSignal } = {}): Promise<{ readonly free: number; readonly total: number }> {
    const r = await this.host.send('AT+QFLDS="UFS"', { expect: ['+QFLDS:'], ...options });
    const m = /^\+QFLDS:\s*(\d+),\s*(\d+)/.exec(r.lines[0] ?? '');
    if (!m) throw new QuectelError('AT_BAD_REPLY', `AT+QFLDS="UFS" answered ${JSON.stringify(r.lines)}`);
    return { free: Number(m[1]), total: Number(m[2]) };
  }
}
