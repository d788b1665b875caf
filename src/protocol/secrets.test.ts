import { describe, expect, test } from 'vitest';
import { redactCommandLine, redactReplyLine, secretValues } from './secrets.js';

describe('redactCommandLine', () => {
  test.each([
    ['AT+QICSGP=1,1,"internet","bob","hunter2",1', 'AT+QICSGP=1,1,"internet","bob","***",1'],
    ['at+qicsgp=1,1,"internet","","",0', 'at+qicsgp=1,1,"internet","","",0'],
    ['AT+CPIN="1234"', 'AT+CPIN="***"'],
    ['AT+CPIN=1234', 'AT+CPIN=***'],
    ['AT+QSSLCFG="clientkey",1,"UFS:k.pem","s3cret"', 'AT+QSSLCFG="clientkey",1,"UFS:k.pem","***"'],
    ['AT+QSSLCFG="clientkey",1,"UFS:k.pem"', 'AT+QSSLCFG="clientkey",1,"UFS:k.pem"'],
    ['AT+QSSLCFG="psk",1,"id","key,with,commas"', 'AT+QSSLCFG="psk",1,"***","***"'],
    ['AT+QSSLCFG="sni",1,1', 'AT+QSSLCFG="sni",1,1'],
    ['AT+QMTCONN=0,"c","u","p"', 'AT+QMTCONN=0,"c","u","***"'],
    ['AT+QFTPCFG="account","u","p"', 'AT+QFTPCFG="account","u","***"'],
    ['AT+CSQ', 'AT+CSQ'],
    ['AT+CPIN?', 'AT+CPIN?'],
  ])('%s', (line, shown) => {
    expect(redactCommandLine(line)).toBe(shown);
  });

  test('secretValues names what to hide elsewhere (an echo, an error)', () => {
    expect(secretValues('AT+QICSGP=1,1,"internet","bob","hunter2",1')).toEqual(['hunter2']);
    expect(secretValues('AT+QSSLCFG="psk",1,"id","k"')).toEqual(['id', 'k']);
    expect(secretValues('AT+CSQ')).toEqual([]);
  });
});

describe('redactReplyLine', () => {
  test.each([
    ['+QICSGP: 1,"internet","bob","hunter2",1', '+QICSGP: 1,"internet","bob","***",1'],
    ['+QICSGP: 1,"","","",0', '+QICSGP: 1,"","","",0'],
    ['+QSSLCFG: "clientkey",1,"UFS:k.pem","pw"', '+QSSLCFG: "clientkey",1,"UFS:k.pem","***"'],
    ['+QSSLCFG: "psk",2,"id","key"', '+QSSLCFG: "psk",2,"***","***"'],
    ['+QSSLCFG: "seclevel",1,2', '+QSSLCFG: "seclevel",1,2'],
    ['+CPIN: READY', '+CPIN: READY'],
  ])('%s', (line, shown) => {
    expect(redactReplyLine(line)).toBe(shown);
  });
});
