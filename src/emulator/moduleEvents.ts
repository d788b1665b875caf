/**
 * What a {@link VirtualModule} emits: its output bytes, unplug events, the command lines it took, and a trace of the
 * exchange for `emulate --trace`.
 */
import type { VirtualModule } from './VirtualModule.js';

/** Events of {@link VirtualModule}. */
export interface VirtualModuleEvents {
  /** Bytes the module sends to the host, already paced. */
  output: [chunk: Buffer];
  /** The port vanished (`true`) or came back (`false`). */
  unplugged: [gone: boolean];
  /** Each command line the module took, for tests and traces. */
  command: [line: string];
  /** The exchange as the module sees it, for `emulate --trace`: lines as text, payloads and data as sizes. */
  trace: [event: ModuleTraceEvent];
}

/** One step of the exchange: a host command line or payload, or module text (response line, URC) or data. */
export interface ModuleTraceEvent {
  /** `performance.now()` when it happened. */
  readonly at: number;
  readonly from: 'host' | 'module';
  /** `line`: text (never payload bytes); `payload`/`data`: raw bytes, shown by `length` only. */
  readonly kind: 'line' | 'payload' | 'data';
  readonly text?: string;
  readonly length: number;
}
