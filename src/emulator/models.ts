/**
 * The virtual module's models. Each profile names the firmware revision it models and takes its answers from that
 * firmware: a real capture (T-ids of quectel-at.md) or the manual of its family. What no source gives is listed in
 * the profile's `unknowns`, with the stand-in the emulator uses, so nothing passes for real that is not.
 */
import type { AtPortName } from './ModuleCore.js';
import { NETWORKS, type NetworkProfile } from './firmware/networkProfiles.js';
import {
  BG96MAR02A07M1G, EG25GGBR07A08M2G_01_003, EG800K_ASSUMED,
} from './firmware/sslTestResponses.js';
import { sslCapabilities, type SslCapabilities } from './sslParams.js';

export const MODEL_NAMES = ['BG96', 'BG95', 'EC25', 'EG25-G', 'EC200U', 'EG800K', 'BC25'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Why a TLS open failed, as the emulator classifies it before a profile turns it into an error number. */
export type OpenFailure = 'dns' | 'connect' | 'timeout' | 'handshake' | 'certificate';

export interface SslProfile extends SslCapabilities {
  /** BG96 answers `ERROR` to a quoted ciphersuite value (T01/S13); others take both. */
  readonly rejectsQuotedCipher: boolean;
  /** The `<err>` of `+QSSLOPEN` for each kind of failure. */
  readonly failureCodes: Readonly<Record<OpenFailure, number>>;
  /**
   * When buffer mode re-arms `+QSSLURC: "recv"`: once reads drained the buffer (the documented QIRD rule), or
   * only after a read answered `+QSSLRECV: 0` (EG800K, T13 notes).
   */
  readonly recvRearm: 'drained' | 'zero-read';
}

export interface ModelProfile {
  readonly name: ModelName;
  /** The lines `ATI` prints before `OK`. */
  readonly ati: readonly string[];
  /** `AT+CGMM`/`AT+GMM`. */
  readonly cgmm: string;
  /** `AT+GMR`/`AT+CGMR`. */
  readonly revision: string;
  /** `AT+QGMR`. */
  readonly qgmr: string;
  /** Where this profile's answers come from. */
  readonly sources: string;
  /** What no source gives, and what the emulator answers instead. Empty when everything modelled is sourced. */
  readonly unknowns: readonly string[];
  /** URCs after `RDY` at boot, in order. */
  readonly bootUrcs: readonly string[];
  /** The port a host reaches by default: the USB AT port, or the main UART on a UART-only module. */
  readonly hostPort: AtPortName;
  /** `AT+QURCCFG="urcport"` at power-on (factory default `usbat`, S4); `undefined`: one port gets every URC. */
  readonly urcPortDefault: AtPortName | undefined;
  /** SSL AT command set, or `undefined` where the module has none (BC25: every QSSL command is `ERROR`). */
  readonly ssl: SslProfile | undefined;
  /** TCP (`AT+QI*`) and file (`AT+QF*`) command sets. */
  readonly tcp: boolean;
  readonly files: boolean;
  /** How `AT+QFLST` prints names: BG96 plain, EC2x/EG800K with `UFS:` (T16). */
  readonly fileListPrefix: '' | 'UFS:';
  /** Directory entries `AT+QFLST` lists before the files, with the size it prints (BG96 `"security/",2`, T01). */
  readonly fileListDirs: readonly (readonly [name: string, size: number])[];
  /** With echo on, the bytes of an `AT+QFUPL` upload are echoed (BG95, T22). */
  readonly echoesUpload: boolean;
  /** Highest PDP context id: BG96/EC2x 16, EC200U 7, EG800K 8 (§9). */
  readonly maxPdpContext: number;
  /** `+QSSLSTATE` local port: EG800K prints 0 (T13), others the ephemeral port. */
  readonly reportsLocalPort: boolean;
  /** Free space of UFS in bytes (`AT+QFLDS="UFS"`), allocated in 4 KiB blocks. */
  readonly ufsBytes: number;
  /** Network start-up queries (`AT+COPS?`, `AT+QNWINFO`, `AT+QCFG`…) and the NB-IoT 3GPP set. */
  readonly network: NetworkProfile;
}

const COMMON_FAILURES: Record<OpenFailure, number> = {
  dns: 565, connect: 566, timeout: 569, handshake: 566, certificate: 566,
};
const BOOT_BG96 = ['+CFUN: 1', '+CPIN: READY', '+QUSIM: 1', '+QIND: SMS DONE'];
const BOOT_EC2X = [...BOOT_BG96, '+QIND: PB DONE'];

const ssl = (testLines: readonly string[], rest: Partial<Omit<SslProfile, keyof SslCapabilities>> = {}): SslProfile => ({
  ...sslCapabilities(testLines), rejectsQuotedCipher: false, failureCodes: COMMON_FAILURES, recvRearm: 'drained', ...rest,
});

const base = {
  tcp: true, files: true, maxPdpContext: 16, reportsLocalPort: true, ufsBytes: 14_483_456, hostPort: 'usbat',
  urcPortDefault: 'usbat', fileListDirs: [], echoesUpload: false,
} as const;

const QGMR_UNKNOWN = 'AT+QGMR: the build suffix of this revision was not captured; the emulator prints <revision>_01.001.01.001';

export const MODELS: Readonly<Record<ModelName, ModelProfile>> = {
  BG96: {
    ...base, name: 'BG96', ati: ['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G'], cgmm: 'BG96',
    revision: 'BG96MAR02A07M1G', qgmr: 'BG96MAR02A07M1G_01.001.01.001', bootUrcs: BOOT_BG96, fileListPrefix: '',
    fileListDirs: [['security/', 2]],
    sources: 'ATI T04; AT+QSSLCFG=? T18 (same revision); quoted ciphersuite refused T01; QFLST directory entry T01; ' +
      'boot URCs and their port T03/T04/T08; BG96 manuals S1–S4',
    unknowns: [QGMR_UNKNOWN],
    ssl: ssl(BG96MAR02A07M1G, { rejectsQuotedCipher: true }),
    network: NETWORKS.lpwa,
  },
  BG95: {
    ...base, name: 'BG95', ati: ['Quectel', 'BG95-M3', 'Revision: BG95M3LAR02A03'], cgmm: 'BG95-M3',
    revision: 'BG95M3LAR02A03', qgmr: 'BG95M3LAR02A03_01.001.01.001', bootUrcs: [...BOOT_BG96, 'APP RDY'],
    fileListPrefix: '', echoesUpload: true,
    sources: 'ATI §8.1; APP RDY S22; upload echo and checksums T22; BG95 shares the BG96 SSL command set (§8.2)',
    unknowns: [QGMR_UNKNOWN, 'AT+QSSLCFG=?: not captured for BG95; the BG96MAR02A07M1G list (T18) stands for it'],
    ssl: ssl(BG96MAR02A07M1G),
    network: NETWORKS.lpwa,
  },
  EC25: {
    ...base, name: 'EC25', ati: ['Quectel', 'EC25', 'Revision: EC25EFAR06A17M4G'], cgmm: 'EC25',
    revision: 'EC25EFAR06A17M4G', qgmr: 'EC25EFAR06A17M4G_01.001.01.001', bootUrcs: BOOT_EC2X, fileListPrefix: 'UFS:',
    sources: 'ATI §8.1; boot URCs S12; UFS: names T02/T16; EC2x manuals',
    unknowns: [
      QGMR_UNKNOWN,
      'AT+QSSLCFG=?, AT+QICFG=?, AT+QNWCFG=?, AT+QCFG="band": not captured for EC25; the EG25-G 01.003 capture ' +
        '(T19, same MDM9x07 platform and EC2x SSL manual) stands for them',
    ],
    ssl: ssl(EG25GGBR07A08M2G_01_003),
    network: NETWORKS.ec2x,
  },
  'EG25-G': {
    ...base, name: 'EG25-G', ati: ['Quectel', 'EG25', 'Revision: EG25GGBR07A08M2G'], cgmm: 'EG25',
    revision: 'EG25GGBR07A08M2G', qgmr: 'EG25GGBR07A08M2G_01.003.01.003', bootUrcs: BOOT_EC2X,
    fileListPrefix: 'UFS:',
    sources: 'ATI, AT+QGMR, AT+QSSLCFG=?, AT+QICFG=?, AT+QNWCFG=? (ERROR), AT+QCFG="band": T19 ' +
      '(EG25GGBR07A08M2G_01.003.01.003); boot URCs S12',
    unknowns: [],
    ssl: ssl(EG25GGBR07A08M2G_01_003),
    network: NETWORKS.ec2x,
  },
  EC200U: {
    ...base, name: 'EC200U', ati: ['Quectel', 'EC200U', 'Revision: EC200UCNAAR03A15M08'], cgmm: 'EC200U',
    revision: 'EC200UCNAAR03A15M08', qgmr: 'EC200UCNAAR03A15M08_01.001.01.001', bootUrcs: ['+CPIN: READY'],
    fileListPrefix: 'UFS:', maxPdpContext: 7,
    sources: 'ATI §8.1; PDP contexts 1–7 and QICFG options S5 (EC200U TCP/IP application note)',
    unknowns: [
      QGMR_UNKNOWN,
      'SSL: no EC200U SSL application note was found (§11.10); the BG96MAR02A07M1G list (T18) stands for it',
      'boot URCs: not verified (§11.15); +CPIN: READY only',
    ],
    ssl: ssl(BG96MAR02A07M1G),
    network: NETWORKS.unisoc,
  },
  // ASR: every TLS failure, timeouts included, is 566 (T15); local port 0 in QSSLSTATE (T13); reads to 0 re-arm.
  EG800K: {
    ...base, name: 'EG800K', ati: ['Quectel', 'EG800K', 'Revision: EG800KCNGCR07A06M04'], cgmm: 'EG800K',
    revision: 'EG800KCNGCR07A06M04', qgmr: 'EG800KCNGCR07A06M04_01.001.01.001', bootUrcs: ['+CPIN: READY'],
    fileListPrefix: 'UFS:', maxPdpContext: 8, reportsLocalPort: false, ufsBytes: 286_720,
    sources: 'S10 captures T13–T17 (firmware EG800KCNGCR07A06M04): SSL failures, sni, QFUPL, QFLDS, QSSLSTATE',
    unknowns: [QGMR_UNKNOWN, 'AT+QSSLCFG=?: not captured; the BG96 manual V1.0 lines plus sni (T15) stand for it'],
    ssl: ssl(EG800K_ASSUMED, { failureCodes: { dns: 565, connect: 566, timeout: 566, handshake: 566, certificate: 566 }, recvRearm: 'zero-read' }),
    network: NETWORKS.asr,
  },
  // NB-IoT (BC25PA platform): Quectel_Ltd identification, no ussl, no BG96 SSL set; a UART and no QURCCFG.
  BC25: {
    ...base, name: 'BC25', ati: ['Quectel_Ltd', 'Quectel_BC25', 'Revision: BC25PAR01A06'], cgmm: 'Quectel_BC25',
    revision: 'BC25PAR01A06', qgmr: 'BC25PAR01A06_01.001.01.001', bootUrcs: [], fileListPrefix: '',
    hostPort: 'uart1', urcPortDefault: undefined,
    sources: 'NB-IoT identification style §8.1; no SSL AT set §8.2; 3GPP PDP commands per 27.007',
    unknowns: [
      QGMR_UNKNOWN,
      'the BC25 AT manual was not read: +CGPADDR and +CGDCONT follow the BC66 family form (space after the colon, ' +
        'address unquoted); AT+CREG?/AT+CGREG? answer ERROR as on an EPS-only NB-IoT module (INFER)',
    ],
    ssl: undefined, tcp: false, files: false,
    network: NETWORKS.nbiot,
  },
};
