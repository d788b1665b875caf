/**
 * Answers to the network queries hosts send at start-up (`AT+COPS?`, `AT+QNWINFO`, `AT+QCSQ`, `AT+QCFG`…), per
 * radio family, in each family's manual format. The network itself is the emulator's: PLMN 00101 (the 3GPP test
 * network), band 3, a strong signal. Values a capture gives are marked with its id.
 */

export interface NetworkProfile {
  /** `<AcT>` of `+COPS:` (27.007): 7 E-UTRAN, 8 E-UTRAN eMTC, 9 E-UTRAN NB-S1. */
  readonly act: number;
  /** `AT+QNWINFO` line once registered; `undefined`: the command does not exist (ERROR). */
  readonly qnwinfo: string | undefined;
  /** `AT+QCSQ` line once registered (`+QCSQ: "NOSERVICE"` otherwise); `undefined`: ERROR. */
  readonly qcsq: string | undefined;
  /** `AT+QINISTAT` value: bit 1 CPIN READY, 2 SMS done, 4 phonebook done; `undefined`: ERROR. */
  readonly qinistat: number | undefined;
  /** `AT+QCFG="<name>"` read answers (the value part); a name not here answers ERROR. */
  readonly qcfg: Readonly<Record<string, string>>;
  /** `AT+QICFG=?` lines; `undefined`: ERROR. */
  readonly qicfgTest: readonly string[] | undefined;
  /** `AT+QNWCFG=?` lines; `undefined`: ERROR (the EG25-G 01.003 firmware answers ERROR, T19). */
  readonly qnwcfgTest: readonly string[] | undefined;
  /** `AT+QSPN` and `AT+QSIMSTAT?` exist. */
  readonly qspn: boolean;
  /** `+CGPADDR: 1,"10.7.157.1"` (LTE) or `+CGPADDR: 1,10.7.157.1` (NB-IoT BC66 family). */
  readonly quotedAddress: boolean;
  /** NB-IoT: no AT+QIACT; the default bearer of context 1 comes up with the attach; CREG/CGREG are ERROR. */
  readonly nbIot: boolean;
}

/** BG96 TCP(IP) manual (S2 §2.1.x) parameters, in the test-line form of T19. */
const QICFG_BG96 = [
  '+QICFG: "transpktsize",(1-1460)',
  '+QICFG: "transwaittm",(0-20)',
  '+QICFG: "dataformat",(0,1),(0,1)',
  '+QICFG: "viewmode",(0,1)',
  '+QICFG: "tcp/retranscfg",(3-20),(5-1000)',
];

/** EG25-G 01.003.01.003 (T19), verbatim. */
const QICFG_EG25 = [
  ...QICFG_BG96,
  '+QICFG: "dns/cache",(0,1)',
  '+QICFG: "qisend/timeout",(0-3600)',
  '+QICFG: "passiveclosed",(0,1)',
  '+QICFG: "udp/readmode",(0,1)',
  '+QICFG: "udp/sendmode",(0,1)',
  '+QICFG: "tcp/accept",(0,1)',
  '+QICFG: "recvind",(0,1)',
  '+QICFG: "tcp/keepalive",(0,1),(1-120),(25-100),(3-10)',
  '+QICFG: "recv/buffersize",(10240-524288)',
  '+QICFG: "window/scale",(0-1)',
];

const LTE_QCFG = { nwscanmode: '0', roamservice: '255', servicedomain: '2' };

export const NETWORKS = {
  /** BG96/BG95 (LTE Cat-M1/NB1): BG96 AT Commands Manual (S4) formats. */
  lpwa: {
    act: 8, qnwinfo: '"eMTC","00101","LTE BAND 3",1575', qcsq: '"CAT-M1",-65,-94,160,-11', qinistat: 3,
    // The BG96 factory band mask and scan settings as the manual lists them.
    qcfg: { nwscanmode: '0', nwscanseq: '020301', iotopmode: '2', band: '0xf,0x400a0e189f,0xa0e189f', roamservice: '255', servicedomain: '1' },
    qicfgTest: QICFG_BG96, qnwcfgTest: undefined, qspn: true, quotedAddress: true, nbIot: false,
  },
  /** EC25/EG25-G: T19 for QICFG, QNWCFG (ERROR) and the band mask; EC2x manual formats otherwise. */
  ec2x: {
    act: 7, qnwinfo: '"FDD LTE","00101","LTE BAND 3",1650', qcsq: '"LTE",-65,-94,160,-11', qinistat: 7,
    qcfg: { ...LTE_QCFG, nwscanseq: '04030201', band: '0xbff,0x1e00b0e18df,0x0' },
    qicfgTest: QICFG_EG25, qnwcfgTest: undefined, qspn: true, quotedAddress: true, nbIot: false,
  },
  /** EC200U (Unisoc): TCP/IP application note S5 for the QICFG options it adds. */
  unisoc: {
    act: 7, qnwinfo: '"FDD LTE","00101","LTE BAND 3",1650', qcsq: '"LTE",-65,-94,160,-11', qinistat: 7,
    qcfg: LTE_QCFG,
    qicfgTest: [
      ...QICFG_BG96, '+QICFG: "close/mode",(0,1)', '+QICFG: "pdp/retry",(0,1)', '+QICFG: "recvind",(0,1)',
      '+QICFG: "sendinfo",(0,1)', '+QICFG: "send/auto",(0,1)', '+QICFG: "recv/ignore",(0,1)',
      '+QICFG: "formatcfg",(0,1)', '+QICFG: "qisend/timeout",(0-120)',
    ],
    qnwcfgTest: undefined, qspn: true, quotedAddress: true, nbIot: false,
  },
  /** EG800K (ASR). */
  asr: {
    act: 7, qnwinfo: '"FDD LTE","00101","LTE BAND 3",1650', qcsq: '"LTE",-65,-94,160,-11', qinistat: 7,
    qcfg: LTE_QCFG, qicfgTest: QICFG_BG96, qnwcfgTest: undefined, qspn: true, quotedAddress: true, nbIot: false,
  },
  /** BC25 (NB-IoT): the 3GPP commands only. */
  nbiot: {
    act: 9, qnwinfo: undefined, qcsq: undefined, qinistat: undefined, qcfg: {}, qicfgTest: undefined,
    qnwcfgTest: undefined, qspn: false, quotedAddress: false, nbIot: true,
  },
} as const satisfies Record<string, NetworkProfile>;
