/**
 * The AT engine's own cost per command: `AtClient.send` over a port that answers on the next microtask, so nothing
 * but the engine, its framer and the client's dialect lookup is measured (no socket, no module, no line). The
 * baseline, in the same run, is the same port written and answered without the engine: what any client pays for a
 * write, a promise and a data event. vitest prints operations per second; one operation is one command.
 *
 *   AT+QSSLSEND=0,1460   the command, `>`, the 1460-byte payload, `SEND OK`
 *   AT+QSSLRECV=0,1500   the command, then `+QSSLRECV: 1500`, 1500 counted bytes and `OK`
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { AtClient } from '../src/at/AtClient.js';
import type { Transport, TransportEvents } from '../src/transport/Transport.js';

const PROMPT = Buffer.from('\r\n> ', 'latin1');
const SEND_OK = Buffer.from('\r\nSEND OK\r\n', 'latin1');
const OK = Buffer.from('\r\nOK\r\n', 'latin1');
const RECV = Buffer.concat([Buffer.from('\r\n+QSSLRECV: 1500\r\n', 'latin1'), Buffer.alloc(1500, 0x5a), Buffer.from('\r\n\r\nOK\r\n', 'latin1')]);
const payload = Buffer.alloc(1460, 0x61);

/** A module that answers at once: `>` to a send command, `SEND OK` to its payload, 1500 bytes to a read, else OK. */
class InstantPort extends EventEmitter<TransportEvents> implements Transport {
  readonly url = 'instant:';
  isOpen = true;
  write(data: Uint8Array): Promise<void> {
    const reply = data.length > 200 ? SEND_OK : data[5] === 0x53 && data[8] === 0x53 ? (data[9] === 0x45 ? PROMPT : RECV) : OK;
    queueMicrotask(() => this.emit('data', reply));
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.isOpen = false;
    this.emit('close', { reason: 'closed' });
    return Promise.resolve();
  }
}

let at: AtClient;
const bare = new InstantPort();
const sendLine = Buffer.from('AT+QSSLSEND=0,1460\r', 'latin1');
const recvLine = Buffer.from('AT+QSSLRECV=0,1500\r', 'latin1');
/** One write and its answer, without the engine. */
const roundTrip = (line: Buffer): Promise<void> => new Promise((resolve) => {
  bare.once('data', () => resolve());
  void bare.write(line);
});

beforeAll(async () => {
  at = await AtClient.open(new InstantPort());
  await at.send('ATE0');
});
afterAll(async () => {
  await at.close();
});

describe('one AT+QSSLSEND of 1460 bytes', () => {
  bench('baseline: the port alone (command, then payload)', async () => {
    await roundTrip(sendLine);
    await roundTrip(payload);
  });
  bench('AtClient.send', async () => {
    await at.send('AT+QSSLSEND=0,1460', { payload });
  });
});

describe('one AT+QSSLRECV of 1500 bytes', () => {
  bench('baseline: the port alone', async () => {
    await roundTrip(recvLine);
  });
  bench('AtClient.send', async () => {
    await at.send('AT+QSSLRECV=0,1500', { dataPrefix: '+QSSLRECV:', expect: ['+QSSLRECV:'] });
  });
});
