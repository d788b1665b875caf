/**
 * The virtual module's models: each a profile of the differences the reference records (quectel-at.md §8, §9).
 * Values marked INFER in a comment were not seen on hardware; the reference's uncertainty carries over.
 */
import { BG96_CIPHER_CODES, CIPHER_SUITES } from '../protocol/cipherSuites.js';
import { BG96_V1_PARAMS, EC2X_PARAMS, EG800K_PARAMS, LATER_BG96_PARAMS, type SslParamName } from './sslParams.js';

export const MODEL_NAMES = ['BG96', 'BG95', 'EC25', 'EG25-G', 'EC200U', 'EG800K', 'BC25'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Why a TLS open failed, as the emulator classifies it before a profile turns it into an error number. */
export type OpenFailure = 'dns' | 'connect' | 'timeout' | 'handshake' | 'certificate';

export interface SslProfile {
  /** Parameters of `AT+QSSLCFG`, in the order the test response lists them. */
  readonly params: readonly SslParamName[];
  /** Ciphersuite codes the firmware offers (the test response's list, without 0XFFFF). */
  readonly cipherCodes: readonly number[];
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
  /** URCs after `RDY` at boot, in order. */
  readonly bootUrcs: readonly string[];
  /** SSL AT command set, or `undefined` where the module has none (BC25: every QSSL command is `ERROR`). */
  readonly ssl: SslProfile | undefined;
  /** TCP (`AT+QI*`) and file (`AT+QF*`) command sets. */
  readonly tcp: boolean;
  readonly files: boolean;
  /** How `AT+QFLST` prints names: BG96 plain, EC2x/EG800K with `UFS:` (T16). */
  readonly fileListPrefix: '' | 'UFS:';
  /** Highest PDP context id: BG96/EC2x 16, EC200U 7, EG800K 8 (§9). */
  readonly maxPdpContext: number;
  /** `+QSSLSTATE` local port: EG800K prints 0 (T13), others the ephemeral port. */
  readonly reportsLocalPort: boolean;
  /** Free space of UFS in bytes (`AT+QFLDS="UFS"`), allocated in 4 KiB blocks. */
  readonly ufsBytes: number;
}

const SEED_CODES = CIPHER_SUITES.filter((s) => s.inQuecPython && s.code !== 0x00ff).map((s) => s.code);
const COMMON_FAILURES: Record<OpenFailure, number> = {
  dns: 565, connect: 566, timeout: 569, handshake: 566, certificate: 566,
};
const BOOT_BG96 = ['+CFUN: 1', '+CPIN: READY', '+QUSIM: 1', '+QIND: SMS DONE'];
const BOOT_EC2X = [...BOOT_BG96, '+QIND: PB DONE'];

const base = {
  tcp: true, files: true, maxPdpContext: 16, reportsLocalPort: true, ufsBytes: 14_483_456,
} as const;

export const MODELS: Readonly<Record<ModelName, ModelProfile>> = {
  // Older firmware (S1 V1.0): no sni/checkhost, plain names, quoted ciphersuite rejected, no APP RDY.
  BG96: {
    ...base, name: 'BG96', ati: ['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G'], cgmm: 'BG96',
    revision: 'BG96MAR02A07M1G', qgmr: 'BG96MAR02A07M1G_01.016.01.016', bootUrcs: BOOT_BG96, fileListPrefix: '',
    ssl: { params: BG96_V1_PARAMS, cipherCodes: BG96_CIPHER_CODES, rejectsQuotedCipher: true,
      failureCodes: COMMON_FAILURES, recvRearm: 'drained' },
  },
  BG95: {
    ...base, name: 'BG95', ati: ['Quectel', 'BG95-M3', 'Revision: BG95M3LAR02A03'], cgmm: 'BG95-M3',
    revision: 'BG95M3LAR02A03', qgmr: 'BG95M3LAR02A03_01.012.01.012', bootUrcs: [...BOOT_BG96, 'APP RDY'],
    fileListPrefix: '',
    ssl: { params: LATER_BG96_PARAMS, cipherCodes: BG96_CIPHER_CODES, rejectsQuotedCipher: false,
      failureCodes: COMMON_FAILURES, recvRearm: 'drained' },
  },
  EC25: {
    ...base, name: 'EC25', ati: ['Quectel', 'EC25', 'Revision: EC25EFAR06A17M4G'], cgmm: 'EC25',
    revision: 'EC25EFAR06A17M4G', qgmr: 'EC25EFAR06A17M4G_01.001.01.001', bootUrcs: BOOT_EC2X, fileListPrefix: 'UFS:',
    ssl: { params: EC2X_PARAMS, cipherCodes: SEED_CODES, rejectsQuotedCipher: false,
      failureCodes: COMMON_FAILURES, recvRearm: 'drained' },
  },
  'EG25-G': {
    ...base, name: 'EG25-G', ati: ['Quectel', 'EG25', 'Revision: EG25GGBR07A08M2G'], cgmm: 'EG25',
    revision: 'EG25GGBR07A08M2G', qgmr: 'EG25GGBR07A08M2G_01.003.01.003', bootUrcs: BOOT_EC2X,
    fileListPrefix: 'UFS:',
    ssl: { params: EC2X_PARAMS, cipherCodes: SEED_CODES, rejectsQuotedCipher: false,
      failureCodes: COMMON_FAILURES, recvRearm: 'drained' },
  },
  // Unisoc: the SSL application note was not found; assumed to be the EC2x model (§11.10). PDP contexts 1–7.
  EC200U: {
    ...base, name: 'EC200U', ati: ['Quectel', 'EC200U', 'Revision: EC200UCNAAR03A15M08'], cgmm: 'EC200U',
    revision: 'EC200UCNAAR03A15M08', qgmr: 'EC200UCNAAR03A15M08_01.200.01.200', bootUrcs: ['+CPIN: READY'],
    fileListPrefix: 'UFS:', maxPdpContext: 7,
    ssl: { params: LATER_BG96_PARAMS, cipherCodes: SEED_CODES, rejectsQuotedCipher: false,
      failureCodes: COMMON_FAILURES, recvRearm: 'drained' },
  },
  // ASR: every TLS failure, timeouts included, is 566 (T15); local port 0 in QSSLSTATE (T13); reads to 0 re-arm.
  EG800K: {
    ...base, name: 'EG800K', ati: ['Quectel', 'EG800K', 'Revision: EG800KCNGCR07A06M04'], cgmm: 'EG800K',
    revision: 'EG800KCNGCR07A06M04', qgmr: 'EG800KCNGCR07A06M04_01.200.01.200', bootUrcs: ['+CPIN: READY'],
    fileListPrefix: 'UFS:', maxPdpContext: 8, reportsLocalPort: false, ufsBytes: 286_720,
    ssl: { params: EG800K_PARAMS, cipherCodes: SEED_CODES, rejectsQuotedCipher: false,
      failureCodes: { dns: 565, connect: 566, timeout: 566, handshake: 566, certificate: 566 }, recvRearm: 'zero-read' },
  },
  // NB-IoT (BC25PA platform): Quectel_Ltd identification, no ussl (seed: "BC25PA平台不支持ussl模块"), no BG96 SSL set.
  BC25: {
    ...base, name: 'BC25', ati: ['Quectel_Ltd', 'Quectel_BC25', 'Revision: BC25PAR01A06'], cgmm: 'Quectel_BC25',
    revision: 'BC25PAR01A06', qgmr: 'BC25PAR01A06_01.001.01.001', bootUrcs: [], fileListPrefix: '',
    ssl: undefined, tcp: false, files: false,
  },
};
