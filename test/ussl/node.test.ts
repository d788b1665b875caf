/**
 * Node programs on the module's TLS: Node's own `https.request` over `createConnection`, and mqtt.js against a
 * mosquitto broker that requires client certificates, over `connectTls`.
 */
import { request } from 'node:https';
import { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { VirtualModule } from '../../src/emulator/index.js';
import { connectTls, Modem } from '../../src/index.js';
import { startHttpsServer, type HttpsPeer } from '../helpers/httpsPeers.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { makePki, type Pki } from '../helpers/pki.js';

let pki: Pki;
let web: HttpsPeer;
let broker: Broker;
beforeAll(async () => {
  pki = await makePki();
  web = await startHttpsServer(pki, 100_000);
  broker = await startMosquitto(pki);
});
afterAll(async () => {
  await web.close();
  await broker.close();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function modem(): Promise<Modem> {
  // The test certificates name myssl.test and localhost: the broker is reached as localhost, so the host check passes.
  const module = new VirtualModule({ model: 'EC25', hosts: { 'myssl.test': `127.0.0.1:${web.port}`, localhost: `127.0.0.1:${broker.port}` } });
  const m = await Modem.open(module);
  cleanups.push(() => module.dispose(), () => m.close());
  return m;
}

test('https.request with createConnection: a GET through the module, 100 kB body, the CA verified', async () => {
  const m = await modem();
  const body = await new Promise<Buffer>((resolve, reject) => {
    const req = request({
      host: 'myssl.test', port: 443, path: '/hello', method: 'GET',
      createConnection: () => connectTls(m, { host: 'myssl.test', port: 443, cadata: pki.ca.cert }),
    }, (res) => {
      expect(res.statusCode).toBe(200);
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  expect(body.length).toBe(100_000);
  expect(body.toString('latin1', 0, 40)).toMatch(/^Hello from myssl\.test(:443)? \(GET \/hello\)/);
});

test('mqtt.js over connectTls: connect with a client certificate, subscribe, publish, receive', async () => {
  const m = await modem();
  const client = new MqttClient(
    () => connectTls(m, { host: 'localhost', port: 8883, cadata: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }) as never,
    { clientId: 'ussl-bridge-test', reconnectPeriod: 0, connectTimeout: 20_000, protocolVersion: 4 },
  );
  cleanups.push(() => new Promise<void>((r) => client.end(true, {}, () => r())));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const got = new Promise<[string, string]>((resolve) => client.once('message', (topic, payload) => resolve([topic, payload.toString()])));
  await client.subscribeAsync('ussl/test', { qos: 1 });
  await client.publishAsync('ussl/test', 'hello over the module', { qos: 1 });
  expect(await got).toEqual(['ussl/test', 'hello over the module']);
});
