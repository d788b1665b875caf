/** Attacks on restarts, PDP loss, unplug and modem.close() in the middle of things. */
import { describe, expect, test } from 'vitest';
import { errno, isOSError } from '../../src/index.js';
import { rig, useTlsEcho, settle, sleep, tcpServer, within } from './harness.js';

const peer = useTlsEcho();

const hosts = () => ({ 'tls.test': `127.0.0.1:${peer.echo.port}`, 'myssl.test': `127.0.0.1:${peer.echo.port}` });

describe('DNS across a restart and a close', () => {
  test('getaddrinfo in flight when the module restarts settles within seconds, not after the 60 s DNS timeout', async () => {
    const { modem, module } = await rig({ hosts: hosts(), latency: { dnsMs: 400 }, boot: { rebootSilenceMs: 20 } });
    const q = settle(modem.usocket.getaddrinfo('tls.test', 443));
    await sleep(100); // AT+QIDNSGIP answered OK; its URCs are 300 ms away
    module.faults.reset();
    const r = await within(q, 10_000);
    expect(r).not.toBe('HUNG');
  }, 20_000);

  test('a getaddrinfo queued behind one cut off by a restart is not held up 60 s either', async () => {
    const { modem, module } = await rig({ hosts: hosts(), latency: { dnsMs: 400 }, boot: { rebootSilenceMs: 20 } });
    void settle(modem.usocket.getaddrinfo('tls.test', 443));
    await sleep(100);
    module.faults.reset();
    await modem.whenReady(5000);
    const r = await within(settle(modem.usocket.getaddrinfo('localhost', 80)), 10_000);
    expect(r).not.toBe('HUNG');
  }, 20_000);

  test('modem.close() with a getaddrinfo in flight settles it at once', async () => {
    const { modem } = await rig({ hosts: hosts(), latency: { dnsMs: 500 } });
    const q = settle(modem.usocket.getaddrinfo('tls.test', 443));
    await sleep(100);
    await modem.close();
    const r = await within(q, 5000);
    expect(r).not.toBe('HUNG');
  }, 20_000);
});

describe('a restart in the middle of connect', () => {
  test('a reset during AT+QSSLOPEN fails connect with an OSError (ECONNRESET), not a raw QuectelError', async () => {
    const { modem, module } = await rig({ hosts: hosts(), boot: { rebootSilenceMs: 20 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    module.faults.resetDuringCommand('AT+QSSLOPEN');
    const e = await s.connect(['tls.test', 443]).then(() => 'connected', (x: unknown) => x);
    expect(isOSError(e), `got ${String(e)}`).toBe(true);
  });

  test('a reset during the certificate upload fails wrap/connect with an OSError', async () => {
    const { modem, module } = await rig({ hosts: hosts(), boot: { rebootSilenceMs: 20 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
    module.faults.resetDuringCommand('AT+QFUPL');
    const e = await s.connect(['tls.test', 443]).then(() => 'connected', (x: unknown) => x);
    expect(isOSError(e), `got ${String(e)}`).toBe(true);
  });

  test('PDP loss while AT+QSSLOPEN waits for its result: connect must not resolve on a connection already lost', async () => {
    const { modem, module } = await rig({ hosts: hosts(), latency: { handshakeMs: 400 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    const c = settle(s.connect(['tls.test', 443]));
    await sleep(150);
    module.faults.pdpDeactivate(1);
    const r = await c;
    // The connection was reported lost (socketsLost) while it opened: connect must fail with ECONNRESET.
    expect(r.ok ? 'connected' : (r.error as { errno?: number }).errno).toBe(errno.ECONNRESET);
    await s.close();
  });

  test('the wrap_socket right after a restart works (the modem comes back on its own)', async () => {
    const { modem, module } = await rig({ hosts: hosts(), boot: { rebootSilenceMs: 20 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    module.faults.reset();
    await expect(s.recv(10)).rejects.toSatisfy((e: unknown) => isOSError(e, errno.ECONNRESET));
    // "the modem comes back on its own, and the next wrap_socket works": no whenReady() in a ported script.
    const t = await modem.ussl.wrap_socket(modem.usocket.socket());
    const r = await settle(t.connect(['tls.test', 443]));
    expect(r.ok, r.ok ? '' : String(r.error)).toBe(true);
    await t.close();
  });

  test('after a PDP loss the next connect works (the modem comes back on its own)', async () => {
    const { modem, module } = await rig({ hosts: hosts() });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    module.faults.pdpDeactivate(1);
    await expect(s.recv(10)).rejects.toSatisfy((e: unknown) => isOSError(e, errno.ECONNRESET));
    const t = await modem.ussl.wrap_socket(modem.usocket.socket());
    const r = await settle(t.connect(['tls.test', 443]));
    expect(r.ok, r.ok ? '' : String(r.error)).toBe(true);
    await t.close();
  });

  test('AT+CFUN=1,1 through modem.send resets open sockets with ECONNRESET', async () => {
    const { modem } = await rig({ hosts: hosts(), boot: { rebootSilenceMs: 20 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    const pending = settle(s.recv(10));
    await modem.send('AT+CFUN=1,1');
    const r = await within(pending, 5000);
    expect(r !== 'HUNG' && !r.ok && isOSError(r.error, errno.ECONNRESET), JSON.stringify(r)).toBe(true);
  });
});

describe('unplug', () => {
  test('a recv in flight when the port vanishes fails with ECONNRESET and a connect after replug works', async () => {
    const { modem, module } = await rig({ hosts: hosts() }, { reconnect: { initialDelayMs: 50 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    const pending = settle(s.recv(10));
    module.faults.unplug();
    const r = await within(pending, 5000);
    expect(r !== 'HUNG' && !r.ok && isOSError(r.error), JSON.stringify(r)).toBe(true);
    module.faults.replug();
    await modem.whenReady(10_000);
    const t = await modem.ussl.wrap_socket(modem.usocket.socket());
    await t.connect(['tls.test', 443]);
    await t.close();
  });
});

describe('close while things are in flight', () => {
  test('close() while connect is in flight: connect rejects EBADF, the id is freed, nothing stays open on the module', async () => {
    const { modem, module } = await rig({ hosts: hosts(), latency: { handshakeMs: 300 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    const c = settle(s.connect(['tls.test', 443]));
    await sleep(50);
    await s.close();
    const r = await c;
    expect(!r.ok && isOSError(r.error, errno.EBADF)).toBe(true);
    await sleep(100);
    expect(modem.connections.all.length).toBe(0);
    expect(module.state.conns.filter(Boolean).length).toBe(0);
  });

  test('modem.close() with a TLS send in flight and a recv waiting: both settle with an OSError', async () => {
    const peer = await tcpServer((x) => x.pause());
    const { modem } = await rig();
    const s = modem.usocket.socket();
    await s.connect(['127.0.0.1', peer.port]);
    const recv = settle(s.recv(10));
    const send = settle(s.send(Buffer.alloc(200_000, 1)));
    await sleep(30);
    await modem.close();
    const [a, b] = await Promise.all([within(recv, 3000), within(send, 3000)]);
    expect(a !== 'HUNG' && !a.ok && isOSError(a.error)).toBe(true);
    expect(b !== 'HUNG' && !b.ok && isOSError(b.error)).toBe(true);
  });
});

describe('PDP loss and restarts in the middle of send, recv and upload', () => {
  for (const fault of ['pdp', 'reset'] as const) {
    test(`${fault} during a 1 MB TLS sendall and a pending recv: both settle with an OSError; after ready a new wrap works`, async () => {
      const { modem, module } = await rig({ hosts: hosts(), boot: { rebootSilenceMs: 20 }, baud: 2_000_000 }, { reconnect: { initialDelayMs: 50 }, pdpRecovery: { initialDelayMs: 50 } });
      const s = await modem.ussl.wrap_socket(modem.usocket.socket());
      await s.connect(['tls.test', 443]);
      const send = settle(s.sendall(Buffer.alloc(1024 * 1024, 0x55)));
      const recv = settle(s.read(2 * 1024 * 1024));
      await sleep(150);
      if (fault === 'pdp') module.faults.pdpDeactivate(1);
      else module.faults.reset();
      const [a, b] = await Promise.all([within(send, 8000), within(recv, 8000)]);
      expect(a !== 'HUNG' && !a.ok && isOSError(a.error), `send: ${a === 'HUNG' ? a : a.ok ? 'ok' : String(a.error)}`).toBe(true);
      expect(b !== 'HUNG' && !b.ok && isOSError(b.error), `recv: ${b === 'HUNG' ? b : b.ok ? `ok ${b.value.length}` : String(b.error)}`).toBe(true);
      await sleep(500); // a pdpdeact URC held behind a command reaches the machine late
      await modem.whenReady(15_000);
      const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
      await t.connect(['myssl.test', 443]).catch(async (e: unknown) => {
        throw new Error(`after ${fault}: ${String(e)}`);
      });
      await t.close();
    }, 30_000);
  }

  test('PDP loss during the CA upload: the wrap fails with an OSError, and the next wrap after ready works', async () => {
    const { modem, module } = await rig({ hosts: { ...hosts(), 'myssl.test': `127.0.0.1:${peer.echo.port}` }, baud: 115_200 }, { pdpRecovery: { initialDelayMs: 50 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
    const c = settle(s.connect(['myssl.test', 443]));
    await sleep(60); // the upload of ~1.1 KB takes ~100 ms at 115200 baud
    module.faults.pdpDeactivate(1);
    const r = await within(c, 10_000);
    if (r !== 'HUNG' && !r.ok) expect(isOSError(r.error), String(r.error)).toBe(true);
    expect(r).not.toBe('HUNG');
    await modem.whenReady(15_000);
    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
    await t.connect(['myssl.test', 443]);
    await t.close();
  }, 30_000);
});

describe('the session forgets the file listing in the middle of an upload', () => {
  test('a PDP loss while AT+QFUPL waits for its answer: the open fails as a socket error, and the next one works', async () => {
    const { modem, module } = await rig({ hosts: hosts() }, { pdpRecovery: { initialDelayMs: 50 } });
    module.faults.delayResponse(300, 'AT+QFUPL');
    const s = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
    const c = settle(s.connect(['myssl.test', 443]));
    await new Promise<void>((resolve) => module.on('command', (line) => line.startsWith('AT+QFUPL') && resolve()));
    module.faults.pdpDeactivate(1); // the listing the session keeps is forgotten while the upload is answered
    const r = await within(c, 10_000);
    expect(r === 'HUNG' ? 'HUNG' : r.ok ? 'connected' : isOSError(r.error) ? 'OSError' : String(r.error)).toMatch(/^(connected|OSError)$/);
    await modem.whenReady(15_000);
    const t = await modem.ussl.wrap_socket(modem.usocket.socket(), { cadata: peer.pki.ca.cert });
    await t.connect(['myssl.test', 443]);
    await t.close();
  }, 30_000);
});

describe('a port lost while the module waits for a payload', () => {
  test('unplugged right after the module printed the send prompt: after replug the modem comes back', async () => {
    const { modem, module } = await rig({ hosts: hosts(), baud: 2_000_000 }, { reconnect: { initialDelayMs: 50 } });
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    const states: string[] = [];
    modem.on('state', (x) => states.push(x));
    // The moment the module prompts for the payload, the cable goes: the host never sees the '>'.
    module.on('trace', (e) => {
      if (e.from === 'module' && e.text?.startsWith('>') && !module.unplugged) module.faults.unplug();
    });
    const send = settle(s.sendall('x'.repeat(1000)));
    expect(await within(send, 5000)).not.toBe('HUNG');
    module.removeAllListeners('trace');
    await sleep(300);
    module.faults.replug();
    const r = await settle(modem.whenReady(20_000));
    expect(r.ok ? 'ready' : `${String(r.error)}; states: ${states.join(' > ')}`).toBe('ready');
  }, 30_000);
});

describe('calls while the port is gone', () => {
  test('getaddrinfo while the modem reconnects fails at once with ENODEV and leaves no 60 s timer or URC listener behind', async () => {
    // A backoff far longer than the test: no reconnect attempt (with timers of its own) starts while the timers are
    // counted, however slow the machine, and the call cannot be answered by an attempt that happens to fail.
    const { modem, module } = await rig({ hosts: hosts() }, { reconnect: { initialDelayMs: 60_000 } });
    module.faults.unplug();
    await new Promise<void>((r) => modem.on('state', (s) => s === 'reconnecting' && r()));
    const timersBefore = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const urcBefore = modem.listenerCount('urc');
    const r = await within(settle(modem.usocket.getaddrinfo('tls.test', 443)), 1000);
    expect(r !== 'HUNG' && !r.ok && isOSError(r.error, errno.ENODEV), r === 'HUNG' ? r : String(!r.ok && r.error)).toBe(true);
    expect(modem.listenerCount('urc')).toBe(urcBefore);
    expect(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
    module.faults.replug();
  });

  test('connect and wrap_socket while the port is gone fail at once with ENODEV; once it is back the same calls work', async () => {
    const { modem, module } = await rig({ hosts: hosts() }, { reconnect: { initialDelayMs: 200, maxDelayMs: 200 } });
    module.faults.unplug();
    await new Promise<void>((r) => modem.on('state', (s) => s === 'reconnecting' && r()));
    const plain = settle(modem.usocket.socket().connect(['tls.test', 443]));
    const tls = settle(modem.ussl.wrap_socket(modem.usocket.socket()).then((s) => s.connect(['tls.test', 443])));
    for (const r of [await within(plain, 1000), await within(tls, 1000)]) {
      expect(r !== 'HUNG' && !r.ok && isOSError(r.error, errno.ENODEV), r === 'HUNG' ? r : String(!r.ok && r.error)).toBe(true);
    }
    module.faults.replug();
    await modem.whenReady(20_000);
    const s = await modem.ussl.wrap_socket(modem.usocket.socket());
    await s.connect(['tls.test', 443]);
    await s.close();
  }, 30_000);
});
