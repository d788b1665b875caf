/**
 * Model-based tests of the connection machine (xstate/graph): a small abstract model of what the module does is
 * walked for the shortest path to every outcome, and each path drives the real Modem against a virtual module
 * configured to behave that way. A second test reads the real machine and proves it has no dead ends.
 */
import { createMachine, type AnyStateNode } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { isQuectelError } from '../../src/errors.js';
import { connectionMachine } from '../../src/modem/connection/connectionMachine.js';
import { Modem } from '../../src/modem/Modem.js';
import type { ModemOptions } from '../../src/modem/ModemOptions.js';

/** What the module (or its port) does at each stage; each final state is an outcome the Modem must reach. */
const model = createMachine({
  id: 'module',
  initial: 'port',
  states: {
    port: { on: { PORT_MISSING: 'noPort', PORT_OK: 'answering' } },
    answering: { on: { SILENT: 'noAnswer', ANSWERS: 'sim' } },
    sim: { on: { SIM_ABSENT: 'simMissing', SIM_PIN: 'simPin', SIM_READY: 'network' } },
    network: { on: { NEVER_REGISTERS: 'notRegistered', DENIED: 'denied', REGISTERS: 'pdp' } },
    pdp: { on: { PDP_FAILS: 'pdpFailed', PDP_OK: 'ready' } },
    ready: { on: { RESTARTS: 'readyAfterRestart', UNPLUGGED: 'readyAfterReplug' } },
    noPort: { type: 'final' }, noAnswer: { type: 'final' }, simMissing: { type: 'final' }, simPin: { type: 'final' },
    notRegistered: { type: 'final' }, denied: { type: 'final' }, pdpFailed: { type: 'final' },
    readyAfterRestart: { type: 'final' }, readyAfterReplug: { type: 'final' },
  },
});

const OUTCOME: Record<string, string> = {
  noPort: 'TRANSPORT_NOT_FOUND', noAnswer: 'MODEM_NO_ANSWER', simMissing: 'MODEM_SIM_MISSING', simPin: 'MODEM_SIM_PIN',
  notRegistered: 'MODEM_NOT_REGISTERED', denied: 'MODEM_REGISTRATION_DENIED', pdpFailed: 'MODEM_PDP_FAILED',
  ready: 'ready', readyAfterRestart: 'ready', readyAfterReplug: 'ready',
};

const FAST: ModemOptions = {
  syncTimeoutMs: 300, simTimeoutMs: 300, registrationTimeoutMs: 300, registrationPollMs: 50,
  reconnect: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 50 }, at: { timeouts: { '+QIACT': 200 }, fenceTimeoutMs: 100 },
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Plays one path: configures the virtual module from its events, opens, then applies what happens once ready. */
async function play(events: readonly string[]): Promise<string> {
  const options: { -readonly [K in keyof VirtualModuleOptions]: VirtualModuleOptions[K] } = { model: 'EC25', boot: { rebootSilenceMs: 30 } };
  if (events.includes('SIM_ABSENT')) options.sim = 'absent';
  if (events.includes('SIM_PIN')) options.sim = 'PIN';
  if (events.includes('NEVER_REGISTERS')) options.registration = { afterMs: 60_000 };
  if (events.includes('DENIED')) options.registration = { stat: 3 };
  const m = new VirtualModule(options);
  cleanups.push(() => m.dispose());
  if (events.includes('SILENT')) for (let i = 0; i < 100; i++) m.faults.dropResponse();
  if (events.includes('PDP_FAILS')) m.faults.dropResponse('AT+QIACT=');
  const target = events.includes('PORT_MISSING') ? '/dev/ttyNOPE-model' : m;
  let modem: Modem;
  try {
    modem = await Modem.open(target, FAST);
  } catch (e) {
    return isQuectelError(e) ? e.code : String(e);
  }
  cleanups.push(() => modem.close());
  if (events.includes('RESTARTS')) {
    // The host learns of a spontaneous restart only from its RDY; wait until the machine has seen it.
    const recovering = new Promise<void>((resolve) => modem.on('socketsLost', () => resolve()));
    m.faults.reset();
    await recovering;
  }
  if (events.includes('UNPLUGGED')) {
    const reconnecting = new Promise<void>((resolve) => modem.on('state', (s) => s === 'reconnecting' && resolve()));
    m.faults.unplug();
    await reconnecting;
    m.faults.replug();
  }
  await modem.whenReady(5000);
  await modem.send('AT');
  return modem.state === 'connected.ready' ? 'ready' : modem.state;
}

describe('every outcome of the model, on the real machine', () => {
  const paths = getShortestPaths(model).filter((p) => p.state.status === 'done' || p.state.value === 'ready');
  test('the model reaches every outcome', () => {
    expect(paths.map((p) => String(p.state.value)).sort()).toEqual(Object.keys(OUTCOME).sort());
  });
  for (const path of paths) {
    const events = path.steps.map((s) => s.event.type).filter((t) => !t.startsWith('xstate.'));
    test(`${events.join(' → ')} ⇒ ${OUTCOME[String(path.state.value)]}`, async () => {
      expect(await play(events)).toBe(OUTCOME[String(path.state.value)]);
    }, 15_000);
  }
});

describe('the real machine has no dead ends', () => {
  const atomic: AnyStateNode[] = [];
  const walk = (n: AnyStateNode) => {
    const children = Object.values(n.states) as AnyStateNode[];
    if (children.length === 0) atomic.push(n);
    children.forEach(walk);
  };
  walk(connectionMachine.root);
  const exits = (n: AnyStateNode): string[] => {
    const keys: string[] = [];
    for (let s: AnyStateNode | undefined = n; s; s = s.parent) keys.push(...s.transitions.keys());
    return keys;
  };

  test.each(atomic.map((n) => [n.id, n] as const))('%s', (_id, node) => {
    if (node.type === 'final') return expect(node.key).toBe('failed');
    const keys = exits(node);
    const own = [...node.transitions.keys()];
    if (node.key === 'ready') {
      // The steady state: left on a restart or a lost port.
      expect(keys).toEqual(expect.arrayContaining(['MODULE_RESET', 'PORT_CLOSED']));
      return;
    }
    // Every other state runs something with an error exit, or waits on a timer.
    const hasError = own.some((k) => k.startsWith('xstate.error.actor'));
    const hasTimer = own.some((k) => k.startsWith('xstate.after'));
    expect(hasError || hasTimer, `${node.id} has neither an error exit nor a timer`).toBe(true);
    if (node.invoke.length > 0) expect(hasError, `${node.id} invokes without an error exit`).toBe(true);
  });
});
