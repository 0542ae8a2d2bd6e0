/**
 * Order across protocols with a multi-partition stream (ARCHITECTURE.md "Addressing across
 * protocols"): MQTT publishes entering a 4-partition Kafka topic go to murmur2 of the routing
 * key, so each MQTT topic lands in one partition and keeps its order for Kafka consumers; and
 * keyed Kafka records keep their per-key (per-partition) order for an MQTT subscriber.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { kafkaClient } from './lib/endpoints.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

const TOPICS = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
const PER_TOPIC = 200;

it('MQTT topics → 4-partition Kafka topic: one partition per MQTT topic, in order', async () => {
  const admin = kafkaClient(broker.ports).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'po.in', numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();

  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
  // In rounds of 50 per topic: at most 300 PUBLISHes in flight, under the broker's Receive Maximum.
  for (let i = 0; i < PER_TOPIC; i += 50) {
    const sends: Promise<unknown>[] = [];
    for (let j = i; j < i + 50; j++) for (const t of TOPICS) sends.push(client.publishAsync(`po/in/${t}`, `${t}:${j}`, { qos: 1 }));
    await Promise.all(sends);
  }
  await client.endAsync();

  const consumer = kafkaClient(broker.ports).consumer({ groupId: 'po-in' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'po.in', fromBeginning: true });
  const byTopic = new Map<string, { partition: number; seq: number }[]>();
  let total = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const [t, seq] = message.value!.toString().split(':') as [string, string];
        (byTopic.get(t) ?? byTopic.set(t, []).get(t)!).push({ partition, seq: Number(seq) });
        if (++total === TOPICS.length * PER_TOPIC) resolve();
      },
    });
  });
  await consumer.disconnect();

  const partitions = new Set<number>();
  for (const t of TOPICS) {
    const got = byTopic.get(t)!;
    expect(new Set(got.map((g) => g.partition)).size, `${t} in one partition`).toBe(1);
    partitions.add(got[0]!.partition);
    expect(got.map((g) => g.seq), `${t} in order`).toEqual(Array.from({ length: PER_TOPIC }, (_, i) => i));
  }
  // Six topics over four partitions by hash: more than one partition is used.
  expect(partitions.size).toBeGreaterThan(1);
});

it('keyed Kafka records on 4 partitions → MQTT subscriber: per-key order kept', async () => {
  const admin = kafkaClient(broker.ports).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'po.out', numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();

  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
  const byKey = new Map<string, number[]>();
  let total = 0;
  const all = new Promise<void>((resolve) => {
    sub.on('message', (_topic, payload) => {
      const [k, seq] = payload.toString().split(':') as [string, string];
      (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(Number(seq));
      if (++total === TOPICS.length * PER_TOPIC) resolve();
    });
  });
  await sub.subscribeAsync('po/out/#', { qos: 1 });

  const producer = kafkaClient(broker.ports).producer();
  await producer.connect();
  for (let i = 0; i < PER_TOPIC; i += 50) {
    const messages = [];
    for (let j = i; j < i + 50; j++) for (const k of TOPICS) messages.push({ key: k, value: `${k}:${j}` });
    await producer.send({ topic: 'po.out', acks: -1, messages });
  }
  await producer.disconnect();
  await all;
  await sub.endAsync();
  for (const k of TOPICS) expect(byKey.get(k), `${k} in order`).toEqual(Array.from({ length: PER_TOPIC }, (_, i) => i));
});
