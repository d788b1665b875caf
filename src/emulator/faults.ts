/**
 * Fault injection for tests (the project's and its users'): each knob reproduces something real modules do
 * (quectel-at.md §10 item 16, lessons.md §12). One-shot knobs apply to the next matching command and then clear.
 */

/**
 * What goes wrong with the next upload (`AT+QFUPL`): `corrupt`, a byte changed on the line (the stored file and its
 * checksum differ from what was sent); `short`, bytes lost on the line (the module waits for the rest, times out
 * with `+CME ERROR: 421` and keeps the part it got, T16); `full`, no room (`+CME ERROR: 403`); `exists`, a file of
 * that name appeared after the host deleted it (`+CME ERROR: 407`).
 */
export type UploadFault = 'corrupt' | 'short' | 'full' | 'exists';

/** Which command lines a one-shot fault applies to: all, those starting with a text, or a pattern. */
export type CommandMatch = string | RegExp | undefined;

interface Armed<T> {
  readonly match: CommandMatch;
  readonly value: T;
}

function matches(match: CommandMatch, line: string): boolean {
  if (match === undefined) return true;
  if (typeof match === 'string') return line.toUpperCase().startsWith(match.toUpperCase());
  return match.test(line);
}

/** The actions that need the module itself; VirtualModule provides them. */
export interface FaultActions {
  garbage(bytes: Uint8Array): void;
  unplug(): void;
  replug(): void;
  peerClose(clientId: number): void;
  pdpDeactivate(contextId: number): void;
  reset(): void;
  setDrip(on: boolean): void;
}

/** The fault knobs a test turns; read by the module while it runs commands. */
export class FaultState {
  private afterEcho: Array<Armed<string>> = [];
  private beforeRecv: string[] = [];
  private resets: Array<Armed<true>> = [];
  private drops: Array<Armed<true>> = [];
  private delays: Array<Armed<number>> = [];
  private sendFails = 0;
  private opensLeft: number | undefined;
  private uploads: Array<Armed<UploadFault>> = [];

  constructor(private readonly actions: FaultActions) {}

  /** Puts `urc` between the echo of the next (matching) command and its response (T08). */
  urcAfterEcho(urc: string, match?: CommandMatch): this {
    this.afterEcho.push({ match, value: urc });
    return this;
  }

  /** Puts `urc` in front of the next `+QSSLRECV:`/`+QIRD:` response line (T26). */
  urcBeforeRecv(urc: string): this {
    this.beforeRecv.push(urc);
    return this;
  }

  /** The module resets on its own in the middle of the next (matching) command: echo, silence, then the boot banner. */
  resetDuringCommand(match?: CommandMatch): this {
    this.resets.push({ match, value: true });
    return this;
  }

  /** The next (matching) command is carried out but its response never comes. */
  dropResponse(match?: CommandMatch): this {
    this.drops.push({ match, value: true });
    return this;
  }

  /** The next (matching) command's response comes `ms` late; input meanwhile waits, as on a busy module. */
  delayResponse(ms: number, match?: CommandMatch): this {
    this.delays.push({ match, value: ms });
    return this;
  }

  /** The next `count` sends answer `SEND FAIL` (the module's send buffer is full). */
  sendFail(count = 1): this {
    this.sendFails += count;
    return this;
  }

  /** The next (matching) `AT+QFUPL` goes wrong as `fault` says (see {@link UploadFault}). */
  uploadFault(fault: UploadFault, match?: CommandMatch): this {
    this.uploads.push({ match, value: fault });
    return this;
  }

  /** After `opens` more successful opens, every `AT+QSSLOPEN`/`AT+QIOPEN` fails with 552 until a reboot (T17). */
  failOpensAfter(opens: number): this {
    this.opensLeft = opens;
    return this;
  }

  /** Delivers every byte the module sends as its own read. */
  drip(on = true): this {
    this.actions.setDrip(on);
    return this;
  }

  /** Sends bytes that are no part of any response, right now. */
  garbage(bytes: Uint8Array | string): this {
    this.actions.garbage(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    return this;
  }

  /** The port vanishes, as when the USB cable is pulled: reads fail, opens fail until {@link replug}. */
  unplug(): this {
    this.actions.unplug();
    return this;
  }

  replug(): this {
    this.actions.replug();
    return this;
  }

  /** The remote peer of a connection closes it. */
  peerClose(clientId: number): this {
    this.actions.peerClose(clientId);
    return this;
  }

  /** The network drops a PDP context: `+QIURC: "pdpdeact",<ctx>` and every socket on it closes. */
  pdpDeactivate(contextId = 1): this {
    this.actions.pdpDeactivate(contextId);
    return this;
  }

  /** A spontaneous reset now (brown-out, watchdog): silence, then the boot banner. */
  reset(): this {
    this.actions.reset();
    return this;
  }

  // ---- read by the module ----

  /** @internal */
  take<T>(list: Array<Armed<T>>, line: string): T | undefined {
    const i = list.findIndex((a) => matches(a.match, line));
    if (i < 0) return undefined;
    return list.splice(i, 1)[0]!.value;
  }

  /** @internal */
  takeUrcAfterEcho(line: string): string[] {
    const out: string[] = [];
    for (let u = this.take(this.afterEcho, line); u !== undefined; u = this.take(this.afterEcho, line)) out.push(u);
    return out;
  }

  /** @internal */
  takeUrcBeforeRecv(): string[] {
    return this.beforeRecv.splice(0);
  }

  /** @internal */
  takeReset(line: string): boolean {
    return this.take(this.resets, line) === true;
  }

  /** @internal */
  takeDrop(line: string): boolean {
    return this.take(this.drops, line) === true;
  }

  /** @internal */
  takeDelay(line: string): number {
    return this.take(this.delays, line) ?? 0;
  }

  /** @internal */
  takeUploadFault(line: string): UploadFault | undefined {
    return this.take(this.uploads, line);
  }

  /** @internal */
  takeSendFail(): boolean {
    if (this.sendFails === 0) return false;
    this.sendFails--;
    return true;
  }

  /** @internal True when the degradation knob says the next open must fail. */
  openDegraded(): boolean {
    return this.opensLeft === 0;
  }

  /** @internal Counts a successful open against the degradation knob. */
  countOpen(): void {
    if (this.opensLeft !== undefined && this.opensLeft > 0) this.opensLeft--;
  }

  /** @internal A reboot heals the degraded stack (T17: "only a reboot fixed it"). */
  onReboot(): void {
    this.opensLeft = undefined;
  }
}
