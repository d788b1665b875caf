/**
 * The module's lifecycle as an xstate v5 statechart: open the port → sync → identify → URC port → SIM →
 * registration → PDP → reclaim old sockets → restore what services had configured → ready. A restart (`RDY`,
 * `POWERED DOWN`) sends it back to syncing; a vanished port to reconnecting, and a PDP context the network dropped
 * to reactivating it, each with bounded exponential backoff. Every state either runs a step with a deadline and
 * an error exit, waits on a timer, or is `ready`/`failed`.
 */
import { assign, setup, stateIn, type DoneActorEvent } from 'xstate';
import type { AtClient } from '../../at/AtClient.js';
import { isQuectelError, QuectelError } from '../../errors.js';
import type { ModemOptions, ModuleInfo, UrcPort } from '../ModemOptions.js';
import { openPort, runStep, watchClient, type StepName } from './connectionActors.js';
import { ModemFailure } from './connectionSteps.js';

/** What the machine is given: the options, how to open the port, and the services' hooks. */
export interface ConnectionInput {
  readonly options: ModemOptions;
  /** Opens the port and an AT client on it (called again on every reconnect). */
  readonly openClient: () => Promise<AtClient>;
  /** Re-applies what services configured (SSL contexts in use) after a restart or reconnect; stop when `signal` aborts. */
  readonly restore: (at: AtClient, signal: AbortSignal) => Promise<void>;
  /** The module restarted, the port vanished or the PDP context was lost: every socket is gone. */
  readonly onSocketsLost: (why: LossCause) => void;
}

export interface ConnectionContext extends ConnectionInput {
  client: AtClient | undefined;
  info: ModuleInfo | undefined;
  urcPort: UrcPort | undefined;
  ip: string | undefined;
  everReady: boolean;
  reconnects: number;
  resets: number;
  pdpAttempts: number;
  failure: Error | undefined;
}

export type ConnectionEvent =
  | { readonly type: 'MODULE_RESET'; readonly line: string }
  | { readonly type: 'PORT_CLOSED'; readonly reason: string }
  | { readonly type: 'PDP_LOST'; readonly context: number };

const isReset = (e: unknown) => isQuectelError(e, 'AT_MODULE_RESET');
const isPortLoss = (e: unknown) => isQuectelError(e, 'TRANSPORT_CLOSED') || isQuectelError(e, 'MODEM_PORT_LOST');
/** Why the module's sockets are gone: it restarted, the port went, or the network dropped the PDP context. */
export type LossCause = 'restart' | 'port' | 'pdp';

const backoff = (n: number, r: { initialDelayMs?: number; maxDelayMs?: number } | undefined, first: number, cap: number) =>
  Math.min((r?.initialDelayMs ?? first) * 2 ** Math.max(0, n - 1), r?.maxDelayMs ?? cap);

/** Leaving ready (or the steps after PDP) because the network dropped the context: report, then reactivate. */
const onPdpLost = {
  PDP_LOST: {
    guard: 'ourContext' as const, target: '#connection.connected.pdpLost',
    actions: ['notePdpLost' as const, { type: 'socketsLost' as const, params: { why: 'pdp' as const } }],
  },
};

export const connectionMachine = setup({
  types: { context: {} as ConnectionContext, events: {} as ConnectionEvent, input: {} as ConnectionInput },
  actors: { openPort, runStep, watchClient },
  delays: {
    backoff: ({ context }) => backoff(context.reconnects, context.options.reconnect, 200, 5000),
    pdpBackoff: ({ context }) => backoff(context.pdpAttempts, context.options.pdpRecovery, 500, 10_000),
  },
  guards: {
    mayReconnect: ({ context }) => context.everReady && context.reconnects < (context.options.reconnect?.maxAttempts ?? 10),
    portLostAfterReady: ({ context, event }) => context.everReady && isPortLoss(errorOf(event)),
    /** A module that worked and now answers nothing (wedged, or held by something the port keeps): reopen the port. */
    silentAfterReady: ({ context, event }) => {
      const e = errorOf(event);
      return context.everReady && e instanceof ModemFailure && e.reason === 'no-answer'
        && context.reconnects < (context.options.reconnect?.maxAttempts ?? 10);
    },
    wasReset: ({ event }) => isReset(errorOf(event)),
    /** Restarts since the last time the module was ready: a module that reboots on every bring-up gives up. */
    tooManyResets: ({ context }) => context.resets >= (context.options.maxResets ?? 3),
    ourContext: ({ context, event }) => event.type === 'PDP_LOST' && event.context === (context.options.pdpContext ?? 1),
    mayRetryPdp: ({ context }) => context.pdpAttempts < (context.options.pdpRecovery?.maxAttempts ?? 8),
  },
  actions: {
    recordFailure: assign({ failure: ({ event }) => toError(errorOf(event)) }),
    socketsLost: ({ context }, params: { why: LossCause }) => context.onSocketsLost(params.why),
    closeClient: ({ context }) => void context.client?.close().catch(() => undefined),
    notePdpLost: assign({ ip: undefined, pdpAttempts: ({ context }) => context.pdpAttempts + 1 }),
    countReset: assign({ resets: ({ context, event }) => context.resets + (event.type === 'MODULE_RESET' && event.line !== 'RDY' ? 0 : 1) }),
  },
}).createMachine({
  id: 'connection',
  initial: 'opening',
  context: ({ input }) => ({
    ...input, client: undefined, info: undefined, urcPort: undefined, ip: undefined, everReady: false, reconnects: 0,
    resets: 0, pdpAttempts: 0, failure: undefined,
  }),
  states: {
    opening: {
      invoke: {
        src: 'openPort',
        input: ({ context }) => context,
        onDone: { target: 'connected', actions: assign({ client: ({ event }) => event.output }) },
        onError: [{ guard: 'mayReconnect', target: 'reconnecting' }, { target: 'failed', actions: 'recordFailure' }],
      },
    },
    reconnecting: {
      entry: [assign({ reconnects: ({ context }) => context.reconnects + 1, client: undefined }), { type: 'socketsLost', params: { why: 'port' } }],
      after: { backoff: 'opening' },
    },
    connected: {
      invoke: { src: 'watchClient', input: ({ context }) => context.client! },
      on: {
        PORT_CLOSED: [
          { guard: 'mayReconnect', target: 'reconnecting' },
          { target: 'failed', actions: assign({ failure: () => new ModemFailure('port-lost', 'the port closed') }) },
        ],
        MODULE_RESET: [
          { guard: 'tooManyResets', target: 'failed', actions: assign({ failure: () => new ModemFailure('resetting', 'the module keeps restarting') }) },
          // While syncing a restart is what the step waits through (a command written during boot is answered
          // after RDY, T08); POWERED DOWN announces the RDY that follows, so one restart counts once.
          { guard: stateIn('#connection.connected.syncing'), actions: 'countReset' },
          { target: '.syncing', actions: ['countReset', { type: 'socketsLost', params: { why: 'restart' } }] },
        ],
      },
      initial: 'syncing',
      states: {
        syncing: step('sync', 'identifying'),
        identifying: step('identify', 'urcPort', assign({ info: ({ event }) => (event as DoneActorEvent<ModuleInfo>).output })),
        urcPort: step('checkUrcPort', 'sim', assign({ urcPort: ({ event }) => (event as DoneActorEvent<UrcPort | undefined>).output })),
        sim: step('checkSim', 'registration'),
        registration: step('awaitRegistration', 'pdp'),
        pdp: step('activatePdp', 'reclaiming', assign({ ip: ({ event }) => (event as DoneActorEvent<string>).output })),
        reclaiming: { ...step('reclaimSockets', 'restoring'), on: onPdpLost },
        restoring: { ...step('restore', 'ready'), on: onPdpLost },
        ready: { entry: assign({ everReady: true, resets: 0, reconnects: 0, pdpAttempts: 0 }), on: onPdpLost },
        pdpLost: { after: { pdpBackoff: 'reactivating' } },
        reactivating: {
          invoke: {
            src: 'runStep',
            input: ({ context }) => ({ step: 'reactivatePdp' as const, context }),
            onDone: { target: 'reclaiming', actions: assign({ ip: ({ event }) => event.output as string }) },
            onError: [
              { guard: 'wasReset', target: 'syncing' },
              { guard: 'portLostAfterReady', target: '#connection.reconnecting' },
              { guard: 'mayRetryPdp', target: 'pdpLost', actions: assign({ pdpAttempts: ({ context }) => context.pdpAttempts + 1 }) },
              { target: '#connection.failed', actions: 'recordFailure' },
            ],
          },
        },
      },
    },
    failed: { type: 'final' },
  },
});

/** A state that runs one step: done → `next`; a restart → syncing; a lost port after ready → reconnect; else failed. */
function step(name: StepName, next: string, onDone?: ReturnType<typeof assign<ConnectionContext, DoneActorEvent, undefined, ConnectionEvent, never>>) {
  return {
    invoke: {
      src: 'runStep' as const,
      input: ({ context }: { context: ConnectionContext }) => ({ step: name, context }),
      onDone: onDone ? { target: next, actions: onDone } : { target: next },
      onError: [
        { guard: 'wasReset' as const, target: '#connection.connected.syncing', reenter: true },
        { guard: 'portLostAfterReady' as const, target: '#connection.reconnecting' },
        { guard: 'silentAfterReady' as const, target: '#connection.reconnecting', actions: 'closeClient' as const },
        { target: '#connection.failed', actions: 'recordFailure' as const },
      ],
    },
  };
}

/** The error an actor's error event carries; machine events carry none. */
function errorOf(event: object): unknown {
  return 'error' in event ? event.error : undefined;
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new QuectelError('MODEM_NO_ANSWER', String(e));
}
