/**
 * Bindings between exchanges and streams declared in YAML: AMQP publishes to an exchange reach
 * the Kafka topic bound to it, and a stream declared with `bindToTopicExchange: false` gets
 * nothing from `amq.topic` (so not from MQTT or STOMP `/topic/`).
 */
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { kafkaConsumer, kafkaPublisher } from './lib/endpoints.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({
    config: `
vhosts:
  /:
    exchanges: [{ name: events, type: topic, durable: true }]
    streams: [{ name: orders-log, partitions: 1, bindToTopicExchange: false }]
    bindings: [{ source: events, destination: orders-log, routingKey: "order.#" }]
`,
  });
});

afterAll(async () => {
  await broker?.stop();
});

it('AMQP publishes to a YAML-bound exchange reach the Kafka topic; amq.topic traffic does not', async () => {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
  const ch = await conn.createConfirmChannel();
  ch.publish('events', 'order.created', Buffer.from('o-1'), { persistent: true });
  ch.publish('events', 'invoice.created', Buffer.from('not-bound'), { persistent: true });
  // Not bound to amq.topic: neither this AMQP publish nor the MQTT one below reaches the stream.
  ch.publish('amq.topic', 'orders-log', Buffer.from('via-amq-topic'), { persistent: true });
  await ch.waitForConfirms();
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
  await device.publishAsync('orders-log', 'via-mqtt', { qos: 1 });
  await device.endAsync();
  ch.publish('events', 'order.shipped', Buffer.from('o-2'), { persistent: true });
  await ch.waitForConfirms();
  await conn.close();
  // A Kafka produce to the stream itself still works; it is the last record.
  const producer = await kafkaPublisher(broker.ports, 'orders-log');
  await producer.publish([{ body: Buffer.from('o-3'), probe: false }]);
  await producer.close();

  const consumer = await kafkaConsumer(broker.ports, 'orders-log');
  try {
    const got = await consumer.next(3);
    expect(got.map((m) => m.body.toString())).toEqual(['o-1', 'o-2', 'o-3']);
  } finally {
    await consumer.close();
  }
});
