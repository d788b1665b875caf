/**
 * `AT+QSSLCFG=?` as real firmware prints it, line for line (quectel-at.md §2.2). A model profile takes the lines of
 * the firmware it models; the parameters it accepts, their ranges and the cipher list are read from these lines, so
 * the answer to the test command and the behaviour of the set command cannot drift apart.
 */

const V1_HEAD = [
  '+QSSLCFG: "sslversion",(0-5),(0-4)',
  '+QSSLCFG: "ciphersuite",(0-5),(0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XC011,0XC012,0XC013,0XC014,0XC027,0XC028,0XC02F,0XFFFF)',
  '+QSSLCFG: "cacert",(0-5),<cacertpath>',
  '+QSSLCFG: "clientcert",(0-5),<client_cert_path>',
  '+QSSLCFG: "clientkey",(0-5),<client_key_path>',
  '+QSSLCFG: "seclevel",(0-5),(0-2)',
] as const;
const V1_TAIL = [
  '+QSSLCFG: "ignorelocaltime",(0-5),(0,1)',
  '+QSSLCFG: "negotiatetime",(0-5),(10-300)',
] as const;

/** BG96 SSL AT Commands Manual V1.0 (S1 §2.1.1), verbatim. */
export const BG96_MANUAL_V1: readonly string[] = [...V1_HEAD, ...V1_TAIL];

/** BG96 firmware BG96MAR02A07M1G (T18): the manual's list with sni, checkhost and ignorecertchain after seclevel. */
export const BG96MAR02A07M1G: readonly string[] = [
  ...V1_HEAD,
  '+QSSLCFG: "sni",(0-5),(0,1)',
  '+QSSLCFG: "checkhost",(0-5),(0,1)',
  '+QSSLCFG: "ignorecertchain",(0-5),(0,1)',
  ...V1_TAIL,
];

/**
 * EG25-G firmware EG25GGBR07A08M2G_01.003.01.003 (T19), verbatim, including the stray space in `0XC005, 0XC007`:
 * 32 suites and 0XFFFF, dtls before the cipher list, no ignorecertitem (that came with 30.203, T20).
 */
export const EG25GGBR07A08M2G_01_003: readonly string[] = [
  '+QSSLCFG: "sslversion",(0-5),(0-4)',
  '+QSSLCFG: "dtls",(0-5),(0,1)',
  '+QSSLCFG: "dtlsversion",(0-5),(0,1)',
  '+QSSLCFG: "ciphersuite",(0-5),(0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XC002,0XC003,0XC004,0XC005, 0XC007,0XC008,0XC009,0XC00A,0XC011,0XC012,0XC013,0XC014,0XC00C,0XC00D,0XC00E,0XC00F,0XC023,0XC024,0XC025,0XC026,0XC027,0XC028,0XC029,0XC02A,0XC02F,0XC030,0XFFFF)',
  '+QSSLCFG: "cacert",(0-5),<cacertpath>',
  '+QSSLCFG: "cacertex",(0-5),<cacertexpath>',
  '+QSSLCFG: "clientcert",(0-5),<client_cert_path>',
  '+QSSLCFG: "clientkey",(0-5),<client_key_path>,<key_pwd>',
  '+QSSLCFG: "seclevel",(0-5),(0-2)',
  '+QSSLCFG: "ignorelocaltime",(0-5),(0,1)',
  '+QSSLCFG: "negotiatetime",(0-5),(10-300)',
  '+QSSLCFG: "sni",(0-5),(0,1)',
  '+QSSLCFG: "psk",(0-5),<identity>,<key>',
  '+QSSLCFG: "closetimemode",(0-5),(0,1)',
  '+QSSLCFG: "session_cache",(0-5),(0,1)',
  '+QSSLCFG: "alpn",(0-5),<protocolname>',
  '+QSSLCFG: "renegotiation",(0-5),(0,1)',
  '+QSSLCFG: "ignoremulticertchainverify",(0-5),(0,1)',
  '+QSSLCFG: "ignoreinvalidcertsign",(0-5),(0,1)',
];

/**
 * EG800K (S10, T13–T17): its test response was not captured. The manual's V1.0 lines stand for it, plus the `sni`
 * line the captures used (T15: sni exists and defaults to 0). Which other parameters it lists is unknown.
 */
export const EG800K_ASSUMED: readonly string[] = [...V1_HEAD, ...V1_TAIL, '+QSSLCFG: "sni",(0-5),(0,1)'];
