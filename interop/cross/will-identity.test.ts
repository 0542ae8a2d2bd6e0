/**
 * An MQTT will message is published by the broker on behalf of the device that left: consumers
 * of other protocols (amqplib, stompit, kafkajs) see the device's validated identity (protocol
 * mqtt, its client id, its user), never the broker's and never the forged `x-pb-origin-*` user
 * properties of its CONNECT; MQTT subscribers get the user properties as the device gave them,
 * less the forged ones (native bytes). docs/mapping.md "Publisher identity".
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { amqpConsumer, ensureTopic, kafkaConsumer, stompConsumer, type Consumer } from './lib/endpoints.js';
import { ORIGIN, P, SPOOF } from './lib/probe.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

it('a will message carries the device identity to AMQP, STOMP and Kafka consumers; MQTT subscribers get its user properties exact', async () => {
  const ports = broker.ports;
  const url = `mqtt://127.0.0.1:${ports.mqtt}`;
  // Consumers take `wl` and below (AMQP `wl.#`, STOMP `/topic/wl.#`, Kafka topic `wl` bound to `wl.#`).
  await ensureTopic(ports, 'wl');
  const others: [string, Consumer][] = [
    ['amqp', await amqpConsumer(ports, 'wl')],
    ['stomp', await stompConsumer(ports, 'wl')],
    ['kafka', await kafkaConsumer(ports, 'wl')],
  ];
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'will-sub', reconnectPeriod: 0 });
  try {
    const mqttGot = new Promise<mqtt.IPublishPacket>((resolve) => sub.on('message', (_t, _p, packet) => resolve(packet)));
    await sub.subscribeAsync('wl/dev', { qos: 1 });

    const device = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: 'will-dev',
      username: 'guest',
      password: 'guest',
      reconnectPeriod: 0,
      will: { topic: 'wl/dev', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { userProperties: { ...P.headers, ...SPOOF } } },
    });
    // Dropped without DISCONNECT: the broker publishes the will [MQTT-3.1.2-8].
    device.stream.destroy();

    const m = await mqttGot;
    expect(m.payload.toString()).toBe('gone');
    expect(m.properties?.userProperties).toEqual(P.headers);
    for (const [protocol, consumer] of others) {
      const [got] = await consumer.next(1);
      expect(got!.body.toString(), protocol).toBe('gone');
      const h = got!.headers;
      expect({ protocol: h[ORIGIN.protocol], clientId: h[ORIGIN.clientId], user: h[ORIGIN.user] }, `${protocol}: the device's identity`).toEqual({ protocol: 'mqtt', clientId: 'will-dev', user: 'guest' });
      expect(h, protocol).toMatchObject(P.headers);
    }
  } finally {
    await sub.endAsync();
    for (const [, c] of others) await c.close();
  }
});

it('a delayed will (Will Delay Interval) still carries the device identity', async () => {
  const ports = broker.ports;
  const amqp = await amqpConsumer(ports, 'wd');
  try {
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
      protocolVersion: 5,
      clientId: 'will-delayed',
      username: 'guest',
      password: 'guest',
      reconnectPeriod: 0,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: { topic: 'wd/dev', payload: Buffer.from('late'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
    });
    device.stream.destroy();
    const [got] = await amqp.next(1);
    expect(got!.body.toString()).toBe('late');
    expect({ protocol: got!.headers[ORIGIN.protocol], clientId: got!.headers[ORIGIN.clientId], user: got!.headers[ORIGIN.user] }).toEqual({ protocol: 'mqtt', clientId: 'will-delayed', user: 'guest' });
  } finally {
    await amqp.close();
  }
});
