/**
 * Named latency profiles: the module-side delays a real module adds, as data, each value with where it comes from.
 * `new VirtualModule({ latency: 'bg96' })` uses one; `{ ...LATENCY_PROFILES.bg96, handshakeMs: 0 }` adjusts one.
 *
 * Few public captures carry times, so most values are estimates, bounded by what the captures and the manuals do
 * say. The Quectel manuals give only maximum response times (300 ms for simple commands in the BG96 AT Commands
 * Manual; 120 s for a send, 150 s for `AT+QIACT`, 60 s for `AT+QIDNSGIP`, 150 s plus `negotiatetime` for
 * `AT+QSSLOPEN` in the BG96 TCP/IP and SSL manuals, quectel-at.md §3, §4.1, §7.1, §7.3): ceilings, not what a
 * module usually takes.
 */
import { QuectelError } from '../errors.js';
import type { LatencyProfile } from './ModuleCore.js';

/** No added delay anywhere: the module answers as fast as the line carries it (the default). */
export const NO_LATENCY: LatencyProfile = {
  commandMs: 0, promptMs: 0, sendOkMs: 0, handshakeMs: 0, pdpActivateMs: 0, dnsMs: 0,
};

/**
 * A BG96 (BG96MAR02A07M1G) on an LTE network:
 * - `commandMs` 10, estimate. Bounded by captures: a BG96 at 38400 baud answered `AT&FZE0` within the 35 ms between
 *   two serial-monitor time stamps (T04, TinyGSM issue 157; the stamps are the PC's, so an upper bound), and a BG95 answered `AT+CSQ` 60 ms after it
 *   was sent through CMUX (Zephyr issue 88686, 10 ms log ticks, multiplexer included). Manual ceiling 300 ms.
 * - `promptMs` 10, estimate: no capture with times was found between a send command and its `>`.
 * - `sendOkMs` 20, estimate: `SEND OK` only means the bytes reached the module's send buffer (BG96 TCP/IP manual,
 *   quectel-at.md §4.1), so it does not wait for the network; the SSL path also encrypts them first.
 * - `handshakeMs` 2000: T13, an EG800K's `AT+QSSLOPEN` to tcpbin.com answered `+QSSLOPEN: 4,0` 2.0 s after `OK` over
 *   LTE (its DNS lookup, TCP connect and TLS handshake together). No BG96 capture was found; on LTE-M it is likely
 *   slower.
 * - `pdpActivateMs` 1000, estimate: no capture with times; the manual allows up to 150 s.
 * - `dnsMs` 200, derived: one round trip on the same EG800K link, whose `AT+QPING` round trips were 160–270 ms
 *   (NuModem data connection test plan, P1). Manual ceiling 60 s.
 */
const BG96: LatencyProfile = {
  commandMs: 10, promptMs: 10, sendOkMs: 20, handshakeMs: 2000, pdpActivateMs: 1000, dnsMs: 200,
};

/** The profiles by name. */
export const LATENCY_PROFILES = { none: NO_LATENCY, bg96: BG96 } as const satisfies Record<string, LatencyProfile>;

/** A name of {@link LATENCY_PROFILES}. */
export type LatencyProfileName = keyof typeof LATENCY_PROFILES;

/** The profile names, for option checks and help texts. */
export const LATENCY_PROFILE_NAMES = Object.keys(LATENCY_PROFILES) as LatencyProfileName[];

/**
 * The full profile an option asks for: a profile name, or some delays with the rest 0.
 * @throws QuectelError `INVALID_ARGUMENT` for an unknown name or a delay that is not a finite number ≥ 0.
 */
export function resolveLatency(option: LatencyProfileName | Partial<LatencyProfile> | undefined): LatencyProfile {
  if (typeof option === 'string') {
    if (!Object.hasOwn(LATENCY_PROFILES, option)) {
      throw new QuectelError('INVALID_ARGUMENT', `unknown latency profile "${option}"; known: ${LATENCY_PROFILE_NAMES.join(', ')}`);
    }
    return LATENCY_PROFILES[option];
  }
  const profile = { ...NO_LATENCY, ...option };
  for (const [name, ms] of Object.entries(profile)) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new QuectelError('INVALID_ARGUMENT', `latency ${name} must be a number of milliseconds ≥ 0, got ${String(ms)}`);
    }
  }
  return profile;
}
