/**
 * The module's lifecycle as an xstate v5 statechart: open the port → sync → identify → URC port → SIM →
 * registration → PDP → reclaim old sockets → restore what services had configured → ready. An unexpected `RDY`
 * sends it back to syncing; a vanished port to reconnecting with bounded exponential backoff. Every state either
 * runs a step with a deadline and an error exit, waits on a timer, or is `ready`/`failed`.
 */
import { assign, fromCallback, fromPromise, setup, type DoneActorEvent } from 'xstate';
import type { AtClient } from '../../at/AtClient.js';
import { isQuectelError, QuectelError } from '../../errors.js';
import type { ModemOptions, ModuleInfo, UrcPort } from '../ModemOptions.js';
import {
  activatePdp, awaitRegistration, checkSim, checkUrcPort, identify, ModemFailure, reclaimSockets, sync,
} from './connectionSteps.js';

/** What the machine is given: the options, how to open the port, and the services' hooks. */
export interface ConnectionInput {
  readonly options: ModemOptions;
  /** Opens the port and an AT client on it (called again on every reconnect). */
  readonly openClient: () => Promise<AtClient>;
  /** Re-applies what services configured (SSL contexts in use) after a restart or reconnect; stop when `signal` aborts. */
  readonly restore: (at: AtClient, signal: AbortSignal) => Promise<void>;
  /** The module restarted or the port vanished: every socket is gone. */
  readonly onSocketsLost: () => void;
}

export interface ConnectionContext extends ConnectionInput {
  client: AtClient | undefined;
  info: ModuleInfo | undefined;
  urcPort: UrcPort | undefined;
  ip: string | undefined;
  everReady: boolean;
  reconnects: number;
  resets: number;
  failure: Error | undefined;
}

export type ConnectionEvent =
  | { readonly type: 'MODULE_RESET'; readonly line: string }
  | { readonly type: 'PORT_CLOSED'; readonly reason: string };

type StepName = 'sync' | 'identify' | 'checkUrcPort' | 'checkSim' | 'awaitRegistration' | 'activatePdp' | 'reclaimSockets' | 'restore';

/** An outer deadline on a step, in case its own deadlines let it run on (they should not). */
function deadlineMs(step: StepName, o: ModemOptions): number {
  const extra = 30_000;
  if (step === 'awaitRegistration') return (o.registrationTimeoutMs ?? 90_000) + extra;
  if (step === 'checkSim') return (o.simTimeoutMs ?? 20_000) + extra;
  if (step === 'activatePdp') return 150_000 * 2 + extra;
  return 120_000;
}

const runStep = fromPromise<unknown, { step: StepName; context: ConnectionContext }>(async ({ input: { step, context }, signal }) => {
  const o = context.options;
  // One signal for both ends of a step: the machine leaving its state, or the outer deadline.
  const stop = new AbortController();
  const onLeave = () => stop.abort(signal.reason);
  signal.addEventListener('abort', onLeave, { once: true });
  const c = { at: context.client!, options: o, signal: stop.signal };
  const work: Promise<unknown> = {
    sync: () => sync(c), identify: () => identify(c), checkUrcPort: () => checkUrcPort(c),
    checkSim: () => checkSim(c), awaitRegistration: () => awaitRegistration(c), activatePdp: () => activatePdp(c),
    reclaimSockets: () => reclaimSockets(c, context.info!), restore: () => context.restore(c.at, c.signal),
  }[step]();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failure = new ModemFailure('no-answer', `${step} did not finish in time`);
      stop.abort(failure);
      reject(failure);
    }, deadlineMs(step, o));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onLeave);
  }
});

const isReset = (e: unknown) => isQuectelError(e, 'AT_MODULE_RESET');
const isPortLoss = (e: unknown) => isQuectelError(e, 'TRANSPORT_CLOSED') || isQuectelError(e, 'MODEM_PORT_LOST');

export const connectionMachine = setup({
  types: { context: {} as ConnectionContext, events: {} as ConnectionEvent, input: {} as ConnectionInput },
  actors: {
    openPort: fromPromise<AtClient, ConnectionContext>(async ({ input, signal }) => {
      const client = await input.openClient();
      // The machine was stopped (modem.close()) while the port opened: close it, or it would keep the process alive.
      if (signal.aborted) {
        await client.close().catch(() => undefined);
        throw new ModemFailure('port-lost', 'closed while opening');
      }
      return client;
    }),
    runStep,
    /** Turns the client's reset and close into machine events; the client's URC path stays untouched. */
    watchClient: fromCallback<ConnectionEvent, AtClient>(({ input, sendBack }) => {
      const onReset = (line: string) => sendBack({ type: 'MODULE_RESET', line });
      const onClose = (e: { reason: string }) => sendBack({ type: 'PORT_CLOSED', reason: e.reason });
      input.engine.on('reset', onReset);
      input.engine.on('close', onClose);
      return () => {
        input.engine.off('reset', onReset);
        input.engine.off('close', onClose);
      };
    }),
  },
  delays: {
    backoff: ({ context }) => {
      const r = context.options.reconnect;
      return Math.min((r?.initialDelayMs ?? 200) * 2 ** Math.max(0, context.reconnects - 1), r?.maxDelayMs ?? 5000);
    },
    settle: 100,
  },
  guards: {
    mayReconnect: ({ context }) => context.everReady && context.reconnects < (context.options.reconnect?.maxAttempts ?? 10),
    portLostAfterReady: ({ context, event }) => context.everReady && isPortLoss(errorOf(event)),
    wasReset: ({ event }) => isReset(errorOf(event)),
    /** Restarts since the last time the module was ready: a module that reboots on every bring-up gives up. */
    tooManyResets: ({ context }) => context.resets >= (context.options.maxResets ?? 3),
  },
  actions: {
    recordFailure: assign({ failure: ({ event }) => toError(errorOf(event)) }),
    socketsLost: ({ context }) => context.onSocketsLost(),
  },
}).createMachine({
  id: 'connection',
  initial: 'opening',
  context: ({ input }) => ({
    ...input, client: undefined, info: undefined, urcPort: undefined, ip: undefined, everReady: false, reconnects: 0,
    resets: 0, failure: undefined,
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
      entry: [assign({ reconnects: ({ context }) => context.reconnects + 1, client: undefined }), 'socketsLost'],
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
          // POWERED DOWN announces the RDY that follows: one restart, counted once.
          { target: '.recovering', actions: [assign({ resets: ({ context, event }) => context.resets + (event.line.includes('POWER') ? 0 : 1) }), 'socketsLost'] },
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
        reclaiming: step('reclaimSockets', 'restoring'),
        restoring: step('restore', 'ready'),
        ready: { entry: assign({ everReady: true, resets: 0, reconnects: 0 }) },
        recovering: { after: { settle: 'syncing' } },
      },
    },
    failed: { type: 'final' },
  },
});

/** A state that runs one step: done → `next`; a restart → recovering; a lost port after ready → reconnect; else failed. */
function step(name: StepName, next: string, onDone?: ReturnType<typeof assign<ConnectionContext, DoneActorEvent, undefined, ConnectionEvent, never>>) {
  return {
    invoke: {
      src: 'runStep' as const,
      input: ({ context }: { context: ConnectionContext }) => ({ step: name, context }),
      onDone: onDone ? { target: next, actions: onDone } : { target: next },
      onError: [
        { guard: 'wasReset' as const, target: 'recovering' },
        { guard: 'portLostAfterReady' as const, target: '#connection.reconnecting' },
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
