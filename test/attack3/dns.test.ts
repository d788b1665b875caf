/** getaddrinfo across a PDP loss: the answer to a query the loss cut off must not become another name's answer. */
import { afterEach, expect, test } from 'vitest';
import { rig, runCleanups, settle, sleep } from '../attack/harness.js';

afterEach(runCleanups);

test('after a PDP loss cut off getaddrinfo("a.test"), getaddrinfo("b.test") returns b.test\'s address, not a.test\'s', async () => {
  const { modem, module, trace } = await rig({ latency: { dnsMs: 600 }, hosts: { 'a.test': '127.0.0.1:1001', 'b.test': '127.0.0.1:1002' } },
    { pdpRecovery: { initialDelayMs: 50 } });
  const addrA = (await modem.usocket.getaddrinfo('a.test', 443))[0]![4][0];
  const addrB = (await modem.usocket.getaddrinfo('b.test', 443))[0]![4][0];
  expect(addrA).not.toBe(addrB);
  const a = settle(modem.usocket.getaddrinfo('a.test', 443));
  await sleep(100);
  module.faults.pdpDeactivate(1); // the network drops the context while the module looks a.test up
  expect((await a).ok).toBe(false); // failed with the loss: fine
  await modem.whenReady(10_000);
  const b = await settle(modem.usocket.getaddrinfo('b.test', 443));
  // Observed: b.test resolves to a.test's address. DnsService.abandon() (on socketsLost) empties `waiting`, so the
  // module's late +QIURC: "dnsgip" answer for a.test is taken as the first answer for b.test — against abandon()'s
  // own comment ("their late answers, if any, are still taken in their turn"). A connect to b.test then reaches
  // a.test's server.
  const dns = trace.filter((e) => e.text?.startsWith('+QIURC: "dnsgip"')).map((e) => e.text);
  expect({ b: b.ok ? b.value[0]![4][0] : String(b.error), dns }).toEqual({ b: addrB, dns: expect.any(Array) as unknown });
}, 20_000);
