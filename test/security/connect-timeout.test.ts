/**
 * `mqtt.connectTimeoutMs` from the YAML file (docs/security.md "Limits"): a raw TCP client that
 * never sends CONNECT is closed, while an mqtt.js client on another connection keeps
 * publishing and receiving.
 */
import mqtt from 'mqtt';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: 'mqtt:\n  connectTimeoutMs: 1000\n' });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('mqtt.connectTimeoutMs', () => {
  it('closes a connection that sends no CONNECT in time; an mqtt.js client on another connection keeps working', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'well-behaved', reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('t/#', { qos: 1 });
      const silent = createConnection({ host: '127.0.0.1', port: broker.ports.mqtt });
      const received: Buffer[] = [];
      silent.on('data', (d: Buffer) => received.push(d));
      silent.on('error', () => {});
      await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
      await new Promise<void>((resolve) => silent.once('close', () => resolve()));
      expect(Buffer.concat(received).length).toBe(0);

      const got = new Promise<string>((resolve) => client.once('message', (_t, payload: Buffer) => resolve(payload.toString())));
      await client.publishAsync('t/after', 'still here', { qos: 1 });
      expect(await got).toBe('still here');
      expect(client.connected).toBe(true);
    } finally {
      await client.endAsync();
    }
  });
});
