/**
 * The work of each state of the connection machine, as plain promise functions over an {@link AtClient}
 * (lessons.md §10.13: the statechart keeps the lifecycle, the AT path stays plain code). Each step has its own
 * deadline and fails with a typed {@link ModemFailure}.
 */
import type { AtClient, SendOptions } from '../../at/AtClient.js';
import type { AtReply } from '../../at/AtCommand.js';
import { isQuectelError, QuectelError, type QuectelErrorCode } from '../../errors.js';
import type { ModemOptions, ModuleInfo, UrcPort } from '../ModemOptions.js';

/** Why bringing the module up failed; each has its own error code. */
export type ModemFailureReason =
  | 'no-port' | 'no-answer' | 'sim-missing' | 'sim-pin' | 'not-registered' | 'registration-denied' | 'pdp-failed'
  | 'resetting' | 'port-lost' | 'urc-port';

const CODES: Readonly<Record<ModemFailureReason, QuectelErrorCode>> = {
  'no-port': 'MODEM_NO_PORT', 'no-answer': 'MODEM_NO_ANSWER', 'sim-missing': 'MODEM_SIM_MISSING',
  'sim-pin': 'MODEM_SIM_PIN', 'not-registered': 'MODEM_NOT_REGISTERED', 'registration-denied': 'MODEM_REGISTRATION_DENIED',
  'pdp-failed': 'MODEM_PDP_FAILED', resetting: 'MODEM_RESETTING', 'port-lost': 'MODEM_PORT_LOST', 'urc-port': 'MODEM_URC_PORT',
};

/** A step's failure: the reason, and the error under it. */
export class ModemFailure extends QuectelError {
  constructor(readonly reason: ModemFailureReason, message: string, cause?: unknown) {
    super(CODES[reason], message, { reason }, cause === undefined ? undefined : { cause });
  }
}

/** What a step works with. `signal` aborts when the machine leaves the step's state: no step outlives its state. */
export interface StepContext {
  readonly at: AtClient;
  readonly options: ModemOptions;
  readonly signal: AbortSignal;
}

/** Sends with the step's signal, so an abandoned step stops sending. */
function send(c: StepContext, command: string, options: Omit<SendOptions, 'signal'> = {}): Promise<AtReply> {
  return c.at.send(command, { ...options, signal: c.signal });
}

function sleep(c: StepContext, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (c.signal.aborted) return reject(c.signal.reason);
    const t = setTimeout(() => {
      c.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(c.signal.reason);
    };
    c.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `AT` until it answers (the module may still be booting), then echo off and numeric errors. */
export async function sync(c: StepContext): Promise<void> {
  const { options } = c;
  const deadline = Date.now() + (options.syncTimeoutMs ?? 10_000);
  for (;;) {
    try {
      await send(c, 'AT', { timeoutMs: 500 });
      break;
    } catch (e) {
      if (isQuectelError(e, 'TRANSPORT_CLOSED')) throw new ModemFailure('port-lost', 'the port closed while syncing', e);
      if (Date.now() > deadline) throw new ModemFailure('no-answer', `no answer to AT within ${options.syncTimeoutMs ?? 10_000} ms`, e);
      await sleep(c, 100);
    }
  }
  await send(c, 'ATE0');
  await send(c, 'AT+CMEE=1');
}

/** Model, firmware and SSL capability (§8.2): `ATI`, `AT+QGMR`, `AT+QSSLCFG=?`. */
export async function identify(c: StepContext): Promise<ModuleInfo> {
  const ati = (await send(c, 'ATI')).lines;
  const nbIot = ati[0] === 'Quectel_Ltd' || /^(Quectel_)?BC/.test(ati[1] ?? '');
  const model = (ati[1] ?? '').replace(/^Quectel_/, '');
  const revision = ati.find((l) => l.startsWith('Revision:'))?.slice('Revision:'.length).trim() ?? '';
  const firmware = (await send(c, 'AT+QGMR').catch(() => ({ lines: [revision] }))).lines[0] ?? revision;
  let sslParams: string[] = [];
  if (!nbIot) {
    const caps = await send(c, 'AT+QSSLCFG=?', { expect: ['+QSSLCFG:'] }).catch(() => undefined);
    sslParams = (caps?.lines ?? []).map((l) => /^\+QSSLCFG: "(\w+)"/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
  }
  // The BG96-style SSL set starts with sslversion (§8.2); NB-IoT modules have another dialect or none.
  const ssl = sslParams[0] === 'sslversion';
  return { manufacturer: ati[0] ?? '', model, revision, firmware, ssl, sslParams };
}

/**
 * Reads where URCs go (`AT+QURCCFG="urcport"`, §1.3) and, when the options name a port, sets it.
 * @returns the port URCs go to, or `undefined` where the module has no such setting.
 */
export async function checkUrcPort(c: StepContext): Promise<UrcPort | undefined> {
  const { options } = c;
  const r = await send(c, 'AT+QURCCFG="urcport"', { expect: ['+QURCCFG:'] }).catch(() => undefined);
  const current = /"urcport","(\w+)"/.exec(r?.lines[0] ?? '')?.[1] as UrcPort | undefined;
  const wanted = options.urcPort;
  if (wanted === undefined || current === undefined || current === wanted) return current;
  await send(c, `AT+QURCCFG="urcport","${wanted}"`).catch((e: unknown) => {
    throw new ModemFailure('urc-port', `URCs go to ${current} and the module refused to send them to ${wanted}`, e);
  });
  return wanted;
}

/** `AT+CPIN?` until READY (the SIM can be busy right after boot), within the SIM deadline (§7.1: 20 s). */
export async function checkSim(c: StepContext): Promise<void> {
  const { options } = c;
  const deadline = Date.now() + (options.simTimeoutMs ?? 20_000);
  for (;;) {
    try {
      const line = (await send(c, 'AT+CPIN?', { expect: ['+CPIN:'] })).lines[0] ?? '';
      if (line === '+CPIN: READY') return;
      throw new ModemFailure('sim-pin', `the SIM needs a PIN (${line})`);
    } catch (e) {
      if (e instanceof ModemFailure) throw e;
      const cme = isQuectelError(e, 'AT_CME_ERROR') ? e.context.cme : undefined;
      if (cme === 10) throw new ModemFailure('sim-missing', 'no SIM card (+CME ERROR: 10)', e);
      if (cme === 11) throw new ModemFailure('sim-pin', 'the SIM needs a PIN (+CME ERROR: 11)', e);
      if (Date.now() > deadline) throw new ModemFailure('sim-missing', 'the SIM did not become ready', e);
      await sleep(c, 500);
    }
  }
}

const REG_COMMANDS = ['AT+CEREG?', 'AT+CREG?', 'AT+CGREG?'] as const;

/** Polls CEREG/CREG/CGREG until one says registered (1 home, 5 roaming), within the registration deadline. */
export async function awaitRegistration(c: StepContext): Promise<number> {
  const { options } = c;
  const deadline = Date.now() + (options.registrationTimeoutMs ?? 90_000);
  for (;;) {
    let denied = false;
    for (const cmd of REG_COMMANDS) {
      const prefix = cmd.slice(2, -1);
      const r = await send(c, cmd, { expect: [`${prefix}:`] }).catch(() => undefined);
      const stat = Number(/:\s*\d+,(\d+)/.exec(r?.lines[0] ?? '')?.[1]);
      if (stat === 1 || stat === 5) return stat;
      if (stat === 3) denied = true;
    }
    if (Date.now() > deadline) {
      throw denied ? new ModemFailure('registration-denied', 'the network denied registration')
        : new ModemFailure('not-registered', `not registered within ${options.registrationTimeoutMs ?? 90_000} ms`);
    }
    await sleep(c, options.registrationPollMs ?? 1000);
  }
}

/** Configures the PDP context with the APN of the options and activates it unless it already is (§7.1). */
export async function activatePdp(c: StepContext): Promise<string> {
  const { options } = c;
  const ctx = options.pdpContext ?? 1;
  try {
    if (options.apn !== undefined) {
      const { apn, user = '', password = '', auth = 0 } = options.apn;
      await send(c, `AT+QICSGP=${ctx},1,"${apn}","${user}","${password}",${auth}`);
    }
    const query = async () => (await send(c, 'AT+QIACT?', { expect: ['+QIACT:'] })).lines.find((l) => l.startsWith(`+QIACT: ${ctx},`));
    let line = await query();
    if (!line) {
      await send(c, `AT+QIACT=${ctx}`, { qiErrorDetail: true });
      line = await query();
    }
    const ip = /"([^"]+)"/.exec(line ?? '')?.[1];
    if (!ip) throw new Error(`context ${ctx} is not active after AT+QIACT`);
    return ip;
  } catch (e) {
    throw new ModemFailure('pdp-failed', `PDP context ${ctx} could not be activated: ${(e as Error).message}`, e);
  }
}

/** Closes SSL and TCP client ids an earlier host process left open (lessons.md §10.11). */
export async function reclaimSockets(c: StepContext, info: ModuleInfo): Promise<number[]> {
  const closed: number[] = [];
  for (const [query, close, prefix] of [
    ['AT+QSSLSTATE', 'AT+QSSLCLOSE', '+QSSLSTATE:'], ['AT+QISTATE', 'AT+QICLOSE', '+QISTATE:'],
  ] as const) {
    if (prefix === '+QSSLSTATE:' && !info.ssl) continue;
    const r = await send(c, query, { expect: [prefix] }).catch(() => undefined);
    for (const line of r?.lines ?? []) {
      const id = Number(/:\s*(\d+),/.exec(line)?.[1]);
      if (Number.isInteger(id)) {
        await send(c, `${close}=${id},0`).catch(() => undefined);
        closed.push(id);
      }
    }
  }
  return closed;
}
