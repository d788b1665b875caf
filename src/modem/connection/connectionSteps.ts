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

/**
 * `AT` until it answers (the module may still be booting), then echo off and numeric errors. The deadline counts
 * from the port opening and starts again at each restart the module announces: a boot is what this step waits for.
 * An `AT` in flight when the module announces a restart is not waited for: it may have been lost while the module
 * booted, and the engine's fence takes care of a late answer to it.
 */
export async function sync(c: StepContext): Promise<void> {
  const { options } = c;
  const limit = options.syncTimeoutMs ?? 10_000;
  let deadline = Date.now() + limit;
  let attempt: AbortController | undefined;
  const onReset = () => {
    deadline = Date.now() + limit;
    attempt?.abort();
  };
  c.at.engine.on('reset', onReset);
  try {
    for (;;) {
      attempt = new AbortController();
      try {
        await c.at.send('AT', { timeoutMs: 500, signal: AbortSignal.any([c.signal, attempt.signal]) });
        break;
      } catch (e) {
        if (isQuectelError(e, 'TRANSPORT_CLOSED')) throw new ModemFailure('port-lost', 'the port closed while syncing', e);
        if (c.signal.aborted) throw e;
        if (Date.now() > deadline) throw new ModemFailure('no-answer', `no answer to AT within ${limit} ms`, e);
        if (!attempt.signal.aborted) await sleep(c, 100);
      }
    }
  } finally {
    c.at.engine.off('reset', onReset);
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
  let lines: readonly string[] = [];
  if (!nbIot) lines = (await send(c, 'AT+QSSLCFG=?', { expect: ['+QSSLCFG:'] }).catch(() => undefined))?.lines ?? [];
  const sslParams = lines.map((l) => /^\+QSSLCFG: "(\w+)"/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
  // The suites in `"ciphersuite",(0-5),(0X0035,…,0XFFFF)`; listings vary in spacing and case (T19), so read leniently.
  const suites = lines.find((l) => l.startsWith('+QSSLCFG: "ciphersuite"'))?.match(/0[xX][0-9A-Fa-f]{1,4}/g) ?? [];
  const cipherSuites = [...new Set(suites.map((h) => Number.parseInt(h.slice(2), 16)))].filter((n) => n !== 0xffff);
  // The BG96-style SSL set starts with sslversion (§8.2); NB-IoT modules have another dialect or none.
  const ssl = sslParams[0] === 'sslversion';
  return { manufacturer: ati[0] ?? '', family: nbIot ? 'nb-iot' : 'lte', model, revision, firmware, ssl, sslParams, cipherSuites };
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

/**
 * Brings the PDP context up and returns its address. LTE families: `AT+QICSGP` with the APN of the options, then
 * `AT+QIACT` unless it already is active; after the network dropped it (`again`), `AT+QIDEACT` first, as the TCP(IP)
 * manual asks after `+QIURC: "pdpdeact"` (§7.1, §5.1). NB-IoT: the context comes up with attach (§9).
 */
export async function activatePdp(c: StepContext, info: ModuleInfo, again = false): Promise<string> {
  const ctx = c.options.pdpContext ?? 1;
  try {
    return info.family === 'nb-iot' ? await attachNbIot(c, ctx) : await activateLte(c, ctx, again);
  } catch (e) {
    throw new ModemFailure('pdp-failed', `PDP context ${ctx} could not be activated: ${(e as Error).message}`, e);
  }
}

async function activateLte(c: StepContext, ctx: number, again: boolean): Promise<string> {
  const { options } = c;
  if (options.apn !== undefined) {
    const { apn, user = '', password = '', auth = 0 } = options.apn;
    await send(c, `AT+QICSGP=${ctx},1,"${apn}","${user}","${password}",${auth}`);
  }
  const query = async () => (await send(c, 'AT+QIACT?', { expect: ['+QIACT:'] })).lines.find((l) => l.startsWith(`+QIACT: ${ctx},`));
  if (again) await send(c, `AT+QIDEACT=${ctx}`).catch(() => undefined);
  let line = again ? undefined : await query();
  if (!line) {
    await send(c, `AT+QIACT=${ctx}`, { qiErrorDetail: true });
    line = await query();
  }
  const ip = /"([^"]+)"/.exec(line ?? '')?.[1];
  if (!ip) throw new Error(`context ${ctx} is not active after AT+QIACT`);
  return ip;
}

/**
 * NB-IoT: the APN goes into `AT+CGDCONT`, the context is active once the module is attached (`+CGATT: 1`, asked for
 * with `AT+CGATT=1` if not), and `AT+CGPADDR` gives the address (3GPP 27.007 §10.1.1, §7.1, §10.1.14).
 */
async function attachNbIot(c: StepContext, ctx: number): Promise<string> {
  const { options } = c;
  if (options.apn !== undefined) await send(c, `AT+CGDCONT=${ctx},"IP","${options.apn.apn}"`);
  const attached = async () => /\+CGATT:\s*1/.test((await send(c, 'AT+CGATT?', { expect: ['+CGATT:'] })).lines[0] ?? '');
  if (!(await attached())) {
    await send(c, 'AT+CGATT=1');
    const deadline = Date.now() + (options.registrationTimeoutMs ?? 90_000);
    while (!(await attached())) {
      if (Date.now() > deadline) throw new Error('the module did not attach');
      await sleep(c, options.registrationPollMs ?? 1000);
    }
  }
  const lines = (await send(c, 'AT+CGPADDR', { expect: ['+CGPADDR:'] })).lines;
  // `+CGPADDR: <cid>,<addr>`, the address quoted on some firmware and bare on others.
  const addresses = lines.map((l) => /^\+CGPADDR:\s*(\d+)\s*,\s*"?([0-9A-Fa-f.:]+)"?/.exec(l)).filter((m) => m !== null);
  const ip = (addresses.find((m) => Number(m[1]) === ctx) ?? addresses[0])?.[2];
  if (!ip) throw new Error(`no address in ${JSON.stringify(lines)}`);
  return ip;
}

/** Closes SSL and TCP client ids an earlier host process left open (lessons.md §10.11). */
export async function reclaimSockets(c: StepContext, info: ModuleInfo): Promise<number[]> {
  const closed: number[] = [];
  if (info.family === 'nb-iot') return closed; // no AT+QI*/QSSL* sockets of this kind (§9)
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
