import fc from 'fast-check';
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

describe('a secret is hidden however the command line is written', () => {
  // With a digit and a sign no fixed part of the lines has, so finding it can only mean the secret leaked.
  const secret = fc.stringMatching(/^[A-Za-z0-9!#%*@^_~-]{6,20}$/).filter((v) => /[0-9]/.test(v) && /[!#%*@^_~]/.test(v));
  /** Commands carrying `v` as a secret, in each form the manuals give. */
  const forms = [
    (v: string) => `+QICSGP=1,1,"apn","user","${v}",1`, (v: string) => `+CPIN="${v}"`,
    (v: string) => `+QSSLCFG="psk",1,"id","${v}"`, (v: string) => `+QSSLCFG="clientkey",2,"UFS:k.pem","${v}"`,
    (v: string) => `+QMTCONN=0,"c","u","${v}"`, (v: string) => `+CGAUTH=1,1,"u","${v}"`,
  ];
  const basic = fc.constantFrom('', 'E0', 'V1', '&F');
  const extended = fc.constantFrom('+CMEE=2', '+QSSLCFG="sni",1,1', '+CSQ', '+QICSGP=1,1,"a+b=c;d","u","",0');

  test('concatenated (after basic commands, after and before others with ;), spaced before =, any letter case', () => {
    fc.assert(fc.property(secret, fc.nat(forms.length - 1), basic, fc.option(extended), fc.option(extended), fc.boolean(), fc.boolean(),
      (v, form, b, before, after, lower, spaced) => {
        let cmd = forms[form]!(v);
        if (spaced) cmd = cmd.replace('=', ' =');
        if (lower) cmd = cmd.replace(/^\+[A-Z]+/, (n) => n.toLowerCase());
        const line = `AT${b}${before === null ? '' : `${before};`}${cmd}${after === null ? '' : `;${after}`}`;
        expect(redactCommandLine(line)).not.toContain(v);
        expect(secretValues(line)).toContain(v);
      }), { numRuns: 2000 });
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
