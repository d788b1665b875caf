/**
 * Command economy: the AT commands and serial bytes the public API spends, counted on the transport (echo off),
 * the module in a child process served on TCP. Each figure is next to its floor: one `AT+QSSLOPEN` for a wrap with
 * options already configured, and for transfers the framing the protocol needs (harness.ts `framing`).
 *
 *   cold wrap     `wrap_socket` with a client certificate and key on a fresh module: the listing, the uploads
 *                 and the SSL context's settings, then the open
 *   warm wrap     the same options again: one command
 *   connectTls    the same options through `modem.connectTls`: one command too (it shares the configured context)
 *   new session   a new `Modem` on the same module (a restart of the program): the files are found, not uploaded
 *   per KiB       BENCH_ECONOMY_SIZE bytes (default 256 KiB) sent, received in buffer mode and in push mode
 */
import { describe } from 'vitest';
import { benchOnce } from './support/benchOnce.js';
import {
  countingTarget, envBytes, framing, KiB, Modem, newCount, openTlsSocket, PEER, recvExactly, since, size, snapshot,
  openModem, startHost, type LineCount, type LinePath, type ModuleHost,
} from './support/harness.js';

const BYTES = envBytes('BENCH_ECONOMY_SIZE', 256 * KiB);

const fmt = (d: LineCount): string => `${d.commands} | ${d.written} | ${d.read}`;
/** `AT+QSSLCFG` ×6 style: each command name with how many times it came, in first-use order. */
function names(d: LineCount): string {
  const counts = new Map<string, number>();
  for (const n of d.names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ');
}

/** `wrap_socket` (before connect, so nothing is reopened) and `connect`; what crossed the line for both. */
async function wrap(modem: Modem, count: LineCount, host: ModuleHost): Promise<LineCount> {
  const before = snapshot(count);
  const tls = await modem.ussl.wrap_socket(modem.usocket.socket(), { server_hostname: PEER, cert: host.clientCert, key: host.clientKey });
  await tls.connect([PEER, 443]);
  const d = since(count, before);
  await tls.close();
  return d;
}

function perKiB(d: LineCount, path: LinePath, bytes: number): string {
  const kib = bytes / KiB;
  const floor = framing(path, bytes);
  const f = (x: number, digits: number): string => (x / kib).toFixed(digits);
  return `${f(d.commands, 3)} (${f(floor.commands, 3)}) | ${f(d.written, 1)} (${f(floor.written, 1)}) | ${f(d.read, 1)} (${f(floor.read, 1)})`;
}

describe('command economy of the public API', () => {
  benchOnce('AT commands and serial bytes', async () => {
    const out = [
      'command economy: AT commands and serial bytes on the line (echo off), module in a child process',
      '| what | commands | bytes written | bytes read | commands sent |',
      '|---|---|---|---|---|',
    ];
    const host = await startHost({ count: 1 });
    try {
      const count = newCount();
      const modem = await openModem(countingTarget(host.urls[0]!, count));
      try {
        const cold = await wrap(modem, count, host);
        out.push(`| cold wrap_socket + connect, cert and key | ${fmt(cold)} | ${names(cold)} |`);
        const warm = await wrap(modem, count, host);
        out.push(`| warm wrap_socket + connect, same options (floor: 1 command) | ${fmt(warm)} | ${names(warm)} |`);
        const before = snapshot(count);
        const stream = modem.connectTls({ host: PEER, port: 443, server_hostname: PEER, cert: host.clientCert, key: host.clientKey });
        await new Promise<void>((resolve, reject) => stream.once('secureConnect', () => resolve()).once('error', reject));
        const viaStream = since(count, before);
        out.push(`| warm connectTls, same options (floor: 1 command) | ${fmt(viaStream)} | ${names(viaStream)} |`);
        stream.destroy();
        await new Promise((r) => setTimeout(r, 200)); // its close goes out before the modem does
      } finally {
        await modem.close();
      }
      const again = newCount();
      const second = await openModem(countingTarget(host.urls[0]!, again));
      try {
        const fresh = await wrap(second, again, host);
        out.push(`| new Modem on the same module, same options: files found, not uploaded | ${fmt(fresh)} | ${names(fresh)} |`);

        out.push('', `per KiB moved, ${size(BYTES)} each way; the protocol's floor in brackets (harness.ts \`framing\`)`,
          '| path | commands per KiB | bytes written per KiB | bytes read per KiB |', '|---|---|---|---|');
        for (const receive of ['buffer', 'push'] as const) {
          const sock = await openTlsSocket(second, receive);
          await sock.send(`UP ${BYTES}\n`);
          const a = snapshot(again);
          await sock.send(Buffer.alloc(BYTES, 0x61));
          const sent = since(again, a);
          await recvExactly(sock, 3);
          if (receive === 'buffer') out.push(`| send (AT+QSSLSEND) | ${perKiB(sent, 'send', BYTES)} |`);
          await sock.send(`DOWN ${BYTES}\n`);
          const b = snapshot(again);
          await recvExactly(sock, BYTES);
          out.push(`| receive, ${receive} mode (${receive === 'buffer' ? 'AT+QSSLRECV' : '+QSSLURC with data'}) | ${perKiB(since(again, b), receive === 'buffer' ? 'recv' : 'push', BYTES)} |`);
          await sock.close();
        }
        // Transparent mode (access mode 2) gets its row here once wrap_socket can open it: framing('transparent', …).
      } finally {
        await second.close();
      }
    } finally {
      await host.stop();
    }
    return out;
  });
});
