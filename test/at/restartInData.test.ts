/**
 * A module that restarts in the middle of a read block (`+QSSLRECV: n` and fewer than n bytes) or of a download
 * (`AT+QFDWL`, no trailer yet) prints its boot banner where the host expects data. Wherever the cut falls and
 * however the bytes are chunked, the host must hear of the restart (a `reset` event) and the command must fail as
 * one, never hand the banner over as data; file content that holds the same text, followed by the rest of the
 * file, must still download whole.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { AtClient } from '../../src/at/AtClient.js';
import { ScriptedPort } from '../../src/at/ScriptedPort.js';
import { isQuectelError } from '../../src/errors.js';
import { formatChecksum, quectelChecksum } from '../../src/protocol/checksum.js';

const BANNER = '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n\r\nAPP RDY\r\n';
const GRACE = 20;
const chunking = fc.record({ min: fc.integer({ min: 1, max: 8 }), max: fc.integer({ min: 8, max: 64 }), seed: fc.nat() });

test('a restart cutting a read block or a download short is a reset, wherever it falls', async () => {
  await fc.assert(fc.asyncProperty(
    fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), chunking,
    async (download, data, cutAt, chunks) => {
      const cut = cutAt % data.length; // bytes sent before the restart, fewer than announced
      const head = Buffer.from(data.subarray(0, cut));
      const command = download ? 'AT+QFDWL="f.pem"' : `AT+QSSLRECV=0,${data.length}`;
      const start = download ? Buffer.from('\r\nCONNECT\r\n') : Buffer.from(`\r\n+QSSLRECV: ${data.length}\r\n`);
      const port = new ScriptedPort([{ expect: `${command}\r`, reply: [Buffer.concat([start, head]), { delayMs: 5 }, BANNER] }], { chunking: chunks });
      const at = await AtClient.open(port, { resetGraceMs: GRACE, fenceTimeoutMs: 50, fenceAttempts: 1 });
      const resets: string[] = [];
      at.on('reset', (l) => resets.push(l));
      const r = await Promise.race([at.send(command, download ? { download: true, expect: ['+QFDWL:'], timeoutMs: 60_000 } : { timeoutMs: 60_000 })
        .then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })), new Promise<{ ok: false; e: string }>((res) => setTimeout(() => res({ ok: false, e: 'HUNG' }), 3000))]);
      await at.close();
      expect(r.ok || r.e !== 'HUNG', 'the command was still pending 3 s after the restart').toBe(true);
      expect(resets).toContain('RDY');
      expect(r.ok ? 'resolved' : isQuectelError(r.e, 'AT_MODULE_RESET')).toBe(true);
    },
  ), { numRuns: 60, endOnFailure: true });
}, 120_000);

test('a download whose content holds the banner text, followed by the rest of the file, is not mistaken for a restart', async () => {
  const file = Buffer.from(`log line\r\n${BANNER}more log\r\n`.repeat(3), 'latin1');
  const trailer = `\r\n+QFDWL: ${file.length},${formatChecksum(quectelChecksum(file))}\r\n\r\nOK\r\n`;
  const port = new ScriptedPort([{ expect: 'AT+QFDWL="log.txt"\r', reply: [`\r\nCONNECT\r\n`, file.subarray(0, 40), { delayMs: 5 }, file.subarray(40), trailer] }]);
  const at = await AtClient.open(port, { resetGraceMs: GRACE });
  const resets: string[] = [];
  at.on('reset', (l) => resets.push(l));
  const r = await at.send('AT+QFDWL="log.txt"', { download: true, expect: ['+QFDWL:'] });
  expect(Buffer.from(r.data).equals(file)).toBe(true);
  expect(resets).toEqual([]);
  await at.close();
});
