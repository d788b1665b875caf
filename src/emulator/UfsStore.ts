/**
 * The module's user file system (UFS). Files survive reboots; names are case-sensitive, an uppercase `UFS:` prefix
 * is optional (quectel-at.md §6.1), `RAM:` is accepted as a second drive on the families that list it.
 */
export const BLOCK_SIZE = 4096;
const MAX_NAME = 80;

export class UfsStore {
  private readonly files = new Map<string, Buffer>();

  constructor(private readonly capacity: number) {}

  /**
   * The storage key for a name as a command gave it: `UFS:a.pem` and `a.pem` are the same file. Returns
   * `undefined` for names the module rejects (empty, too long, lowercase `ufs:` as an EC25 did in T27, other drives).
   */
  static key(name: string): string | undefined {
    let n = name;
    if (n.startsWith('UFS:')) n = n.slice(4);
    else if (n.startsWith('RAM:')) n = `RAM:${n.slice(4)}`;
    else if (/^[A-Za-z]+:/.test(n)) return undefined;
    const bare = n.startsWith('RAM:') ? n.slice(4) : n;
    if (bare.length === 0 || n.length > MAX_NAME || /[\r\n"*]/.test(n)) return undefined;
    return n;
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  get(key: string): Buffer | undefined {
    return this.files.get(key);
  }

  set(key: string, data: Buffer): void {
    this.files.set(key, data);
  }

  delete(key: string): boolean {
    return this.files.delete(key);
  }

  /** Deletes every file (`AT+QFDEL="*"`). */
  clear(): void {
    this.files.clear();
  }

  list(): Array<[string, Buffer]> {
    return [...this.files.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  get usedBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.length;
    return n;
  }

  /** Free space in whole 4 KiB blocks, as EG800K reports it (T16). */
  get freeBytes(): number {
    let blocks = 0;
    for (const f of this.files.values()) blocks += Math.max(1, Math.ceil(f.length / BLOCK_SIZE));
    return Math.max(0, this.capacity - blocks * BLOCK_SIZE);
  }

  get totalBytes(): number {
    return this.capacity;
  }
}
