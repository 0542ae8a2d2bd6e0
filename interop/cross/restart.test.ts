/**
 * Delivery guarantees compose across protocols: what one protocol's publisher had acknowledged
 * (MQTT PUBACK, Kafka acks=all; `sync` durability, the default) is still there for another
 * protocol's consumer after the broker is SIGKILLed between two halves of the traffic, in order.
 */
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { ensureTopic, kafkaConsumer, kafkaPublisher, mqttPublisher, stompSubscriber } from './lib/endpoints.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

const HALF = 250;
const seq = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ body: Buffer.from(`seq-${from + i}`), probe: false }));
const expected = Array.from({ length: 2 * HALF }, (_, i) => `seq-${i}`);

async function crash(): Promise<void> {
  await broker.kill();
  await broker.restart();
}

describe('durable paths across a broker crash', () => {
  it('MQTT QoS 1 → durable AMQP queue: every PUBACKed message survives, in order', async () => {
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await amqp.createChannel();
    await ch.assertQueue('dur.mqtt.amqp', { durable: true });
    await ch.bindQueue('dur.mqtt.amqp', 'amq.topic', 'dur.mqtt.#');
    await amqp.close();

    for (const part of [0, 1]) {
      const pub = await mqttPublisher(broker.ports, 'dur.mqtt');
      await pub.publish(seq(part * HALF, HALF));
      await pub.close();
      if (part === 0) await crash();
    }
    await crash();

    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const c = await conn.createChannel();
      const got: amqplib.ConsumeMessage[] = [];
      await new Promise<void>((resolve) => {
        void c.consume('dur.mqtt.amqp', (m) => {
          if (!m) return;
          got.push(m);
          if (got.length === expected.length) resolve();
        }, { noAck: true });
      });
      expect(got.map((m) => m.content.toString())).toEqual(expected);
      expect(got.every((m) => m.properties.deliveryMode === 2)).toBe(true);
    } finally {
      await conn.close();
    }
  });

  it('Kafka acks=all → durable STOMP subscription (and the Kafka stream itself): nothing lost, in order', async () => {
    const t = 'dur.kafka';
    await ensureTopic(broker.ports, t);
    const durable = { destination: `/topic/${t}`, id: 'dur-1', durable: 'true', 'auto-delete': 'false', ack: 'auto' };
    // Create the durable subscription's queue, then leave: messages wait for it.
    await (await stompSubscriber(broker.ports, durable)).close();

    for (const part of [0, 1]) {
      const pub = await kafkaPublisher(broker.ports, t);
      await pub.publish(seq(part * HALF, HALF));
      await pub.close();
      if (part === 0) await crash();
    }
    await crash();

    const stomp = await stompSubscriber(broker.ports, durable);
    try {
      const got = await stomp.next(expected.length);
      expect(got.map((m) => m.body.toString())).toEqual(expected);
      expect(got.every((m) => m.persistent === true)).toBe(true);
    } finally {
      await stomp.close();
    }
    const kafka = await kafkaConsumer(broker.ports, t);
    try {
      expect((await kafka.next(expected.length)).map((m) => m.body.toString())).toEqual(expected);
    } finally {
      await kafka.close();
    }
  });
});
