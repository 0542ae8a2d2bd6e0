/**
 * Kafka topics are core streams (ARCHITECTURE.md "Addressing across protocols"): a Kafka produce
 * to T is routed through `amq.topic` with routing key T, and an MQTT publish to `T/...` reaches the
 * stream T bound with `T.#`, so Kafka consumers read it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

let broker: RunningBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startBroker();
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'xp', logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.stop();
});

describe('Kafka across protocols', () => {
  it('a Kafka produce reaches an AMQP queue bound to amq.topic with the topic name', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'xp-orders');
    const got = new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume(queue, (m) => m && resolve(m), { noAck: true }));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'xp-orders', messages: [{ key: 'k1', value: 'from kafka', headers: { origin: 'kafkajs' } }] });
    await producer.disconnect();
    const m = await got;
    expect(m.content.toString()).toBe('from kafka');
    expect(m.fields.routingKey).toBe('xp-orders');
    await conn.close();
  });

  it('an MQTT publish to topic/sub reaches Kafka consumers of the topic', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'xp-sensors', numPartitions: 1 }] });
    await admin.disconnect();
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 4 });
    await client.publishAsync('xp-sensors/eu', 'from mqtt', { qos: 1 });
    await client.endAsync();
    const consumer = kafka.consumer({ groupId: 'xp-g' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'xp-sensors', fromBeginning: true });
    const value = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
    await consumer.disconnect();
    expect(value).toBe('from mqtt');
  });
});

describe('Kafka topic names taken by AMQP queues', () => {
  it('a produce to the name of an existing AMQP queue is refused with INVALID_TOPIC_EXCEPTION', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createChannel();
    await ch.assertQueue('xp-plain-queue', { durable: false });
    const producer = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
    await producer.connect();
    await expect(producer.send({ topic: 'xp-plain-queue', messages: [{ value: 'x' }] })).rejects.toMatchObject({ cause: expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' }) });
    await producer.disconnect();
    await conn.close();
  });
});
