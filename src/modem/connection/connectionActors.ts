/**
 * The actors the connection machine invokes: opening the port, running one step with its deadline, and turning
 * the AT client's restarts, closes and PDP losses into machine events. Steps themselves are in connectionSteps.ts.
 */
import { fromCallback, fromPromise } from 'xstate';
import type { AtClient } from '../../at/AtClient.js';
import type { ModemOptions } from '../ModemOptions.js';
import type { ConnectionContext, ConnectionEvent } from './connectionMachine.js';
import {
  activatePdp, awaitRegistration, checkSim, checkUrcPort, identify, ModemFailure, reclaimSockets, sync,
} from './connectionSteps.js';

export type StepName =
  | 'sync' | 'identify' | 'checkUrcPort' | 'checkSim' | 'awaitRegistration' | 'activatePdp' | 'reactivatePdp'
  | 'reclaimSockets' | 'restore';

/** An outer deadline on a step, in case its own deadlines let it run on (they should not). */
function deadlineMs(step: StepName, o: ModemOptions): number {
  const extra = 30_000;
  if (step === 'awaitRegistration') return (o.registrationTimeoutMs ?? 90_000) + extra;
  if (step === 'checkSim') return (o.simTimeoutMs ?? 20_000) + extra;
  if (step === 'activatePdp' || step === 'reactivatePdp') return 150_000 * 2 + 40_000 + extra;
  return 120_000;
}

export const runStep = fromPromise<unknown, { step: StepName; context: ConnectionContext }>(async ({ input: { step, context }, signal }) => {
  const o = context.options;
  // One signal for both ends of a step: the machine leaving its state, or the outer deadline.
  const stop = new AbortController();
  const onLeave = () => stop.abort(signal.reason);
  signal.addEventListener('abort', onLeave, { once: true });
  const c = { at: context.client!, options: o, signal: stop.signal };
  const work: Promise<unknown> = {
    sync: () => sync(c), identify: () => identify(c), checkUrcPort: () => checkUrcPort(c),
    checkSim: () => checkSim(c), awaitRegistration: () => awaitRegistration(c), activatePdp: () => activatePdp(c, context.info!),
    reactivatePdp: () => activatePdp(c, context.info!, true), reclaimSockets: () => reclaimSockets(c, context.info!),
    restore: () => context.restore(c.at, c.signal),
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

export const openPort = fromPromise<AtClient, ConnectionContext>(async ({ input, signal }) => {
  const client = await input.openClient();
  // The machine was stopped (modem.close()) while the port opened: close it, or it would keep the process alive.
  if (signal.aborted) {
    await client.close().catch(() => undefined);
    throw new ModemFailure('port-lost', 'closed while opening');
  }
  return client;
});

/** Turns the client's restarts, its close and the loss of the PDP context into machine events; handlers only signal. */
export const watchClient = fromCallback<ConnectionEvent, AtClient>(({ input, sendBack }) => {
  const onReset = (line: string) => sendBack({ type: 'MODULE_RESET', line });
  const onClose = (e: { reason: string }) => sendBack({ type: 'PORT_CLOSED', reason: e.reason });
  input.engine.on('reset', onReset);
  input.engine.on('close', onClose);
  // §7.2: `+QIURC: "pdpdeact",<contextID>`: the network took the context down, every socket on it is gone.
  const offPdp = input.onUrc('+QIURC: "pdpdeact",', (line) => {
    const context = Number(/"pdpdeact",\s*(\d+)/.exec(line)?.[1]);
    if (Number.isInteger(context)) sendBack({ type: 'PDP_LOST', context });
  });
  return () => {
    input.engine.off('reset', onReset);
    input.engine.off('close', onClose);
    offPdp();
  };
});
