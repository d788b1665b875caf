/**
 * The cipher suite sweep: for every suite of QuecPython's table (and the BG96-only extras), the virtual module is
 * set to that one suite with AT+QSSLCFG="ciphersuite" and opens to `openssl s_server`, which logs what it agreed.
 * The test prints the table the README shows, and fails if a suite this OpenSSL has does not negotiate as itself,
 * or if a suite it lacks seems to work.
 */
import { beforeAll, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { RawAtSession, linkOf } from '../../src/emulator/RawAtSession.js';
import { CIPHER_SUITES, formatCipherCode, type CipherSuite } from '../../src/protocol/cipherSuites.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startOpensslServer, type OpensslServer } from '../helpers/tlsPeers.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
}, 60_000);

/** Suites a default OpenSSL 3 cannot serve at all: fixed ECDH, TLS 1.3-only, PSK and signalling values. */
const usable = (s: CipherSuite) => s.openssl !== undefined && !s.tls13 && s.keyExchange !== 'ECDH';

/** An s_server that accepts only `suite` (or, for suites OpenSSL lacks, everything it has). */
function serverFor(suite: CipherSuite): Promise<OpensslServer> {
  const cred = suite.authentication === 'ECDSA' ? pki.serverEcdsa : pki.serverRsa;
  const cipher = `${usable(suite) ? suite.openssl! : 'ALL:COMPLEMENTOFALL'}:@SECLEVEL=0`;
  return startOpensslServer({ cert: cred.certPath, key: cred.keyPath, cipher, tls: '1.2' });
}

test('each suite in turn, through the virtual module, against openssl s_server', async () => {
  const module = new VirtualModule({ model: 'EC25' });
  const at = new RawAtSession(linkOf(module));
  const rows: string[] = ['| code | suite | OpenSSL name | BG96 list | result |', '|---|---|---|---|---|'];
  const wrong: string[] = [];
  const ping = Buffer.from('ping\n');
  try {
    await at.waitUrc(/^RDY$/);
    for (const c of ['ATE0', 'AT+QIACT=1', 'AT+QSSLCFG="sslversion",1,3']) expect((await at.send(c)).final).toBe('OK');
    for (const suite of CIPHER_SUITES.filter((s) => s.code !== 0x00ff)) {
      const set = await at.send(`AT+QSSLCFG="ciphersuite",1,${formatCipherCode(suite.code)}`);
      let result = 'refused by AT+QSSLCFG';
      if (set.final === 'OK') {
        const server = await serverFor(suite);
        try {
          await at.send(`AT+QSSLOPEN=1,1,0,"127.0.0.1",${server.port},0`);
          const err = Number((await at.waitUrc(/^\+QSSLOPEN: 0,/)).split(',')[1]);
          if (err === 0) {
            await at.send(`AT+QSSLSEND=0,${ping.length}`, ping);
            await at.waitUrc(/^\+QSSLURC: "recv",0$/);
            const back = (await at.send('AT+QSSLRECV=0,100')).data.toString();
            result = back === 'gnip\n' ? 'negotiated, data both ways' : `negotiated, but data came back as ${JSON.stringify(back)}`;
          } else {
            result = `fails (+QSSLOPEN error ${err})`;
          }
          await at.send('AT+QSSLCLOSE=0');
          if (usable(suite) !== result.startsWith('negotiated, data')) wrong.push(`${suite.name}: ${result}`);
        } finally {
          await server.close();
        }
      }
      rows.push(`| ${formatCipherCode(suite.code)} | ${suite.name} | ${suite.openssl ?? '—'} | ${suite.inBg96List ? 'yes' : ''} | ${result} |`);
    }
  } finally {
    module.dispose();
  }
  console.log(rows.join('\n'));
  expect(wrong).toEqual([]);
}, 120_000);
