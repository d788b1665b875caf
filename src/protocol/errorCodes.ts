/**
 * Error numbers a Quectel module reports, shared by the library (to explain them) and the emulator (to print them).
 * Sources: BG96 AT Commands Manual (general CME table), BG96 FILE manual §4, BG96 TCP/IP and SSL manuals §4/§5.
 */

/** `+CME ERROR: <n>` meanings (3GPP 27.007 as listed by Quectel, plus the file-system block 400–426). */
export const CME_ERRORS: Readonly<Record<number, string>> = {
  0: 'phone failure',
  3: 'operation not allowed',
  4: 'operation not supported',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  14: 'SIM busy',
  15: 'SIM wrong',
  16: 'incorrect password',
  20: 'memory full',
  30: 'no network service',
  31: 'network timeout',
  50: 'incorrect parameters',
  100: 'unknown',
  400: 'invalid input value',
  401: 'larger than the size of the file',
  402: 'read zero byte',
  403: 'drive full',
  405: 'file not found',
  406: 'invalid file name',
  407: 'file already existed',
  409: 'fail to write the file',
  410: 'fail to open the file',
  411: 'fail to read the file',
  413: 'reach the max number of files allowed to be opened',
  414: 'the file read-only',
  416: 'invalid file descriptor',
  417: 'fail to list the file',
  418: 'fail to delete the file',
  419: 'fail to get disk info',
  420: 'no space',
  421: 'time out',
  423: 'file too large',
  425: 'invalid parameter',
  426: 'file already opened',
};

/**
 * TCP/IP and SSL result codes: the `<err>` of `+QIOPEN`/`+QSSLOPEN` and the number `AT+QIGETERROR` reports.
 * The text is what `AT+QIGETERROR` prints: real modules print lowercase text with no space after the comma
 * (T21 BG96 `552,invalid parameters`, EG800K `0,operate successfully`).
 */
export const QI_ERRORS: Readonly<Record<number, string>> = {
  0: 'operate successfully',
  550: 'unknown error',
  551: 'operation blocked',
  552: 'invalid parameters',
  553: 'memory not enough',
  554: 'create socket failed',
  555: 'operation not supported',
  556: 'socket bind failed',
  557: 'socket listen failed',
  558: 'socket write failed',
  559: 'socket read failed',
  560: 'socket accept failed',
  561: 'open pdp context failed',
  562: 'close pdp context failed',
  563: 'socket identity has been used',
  564: 'dns busy',
  565: 'dns parse failed',
  566: 'socket connect failed',
  567: 'socket has been closed',
  568: 'operation busy',
  569: 'operation timeout',
  570: 'pdp context broken down',
  571: 'cancel send',
  572: 'operation not allowed',
  573: 'apn not configured',
  574: 'port busy',
};
