/**
 * Crash test: kafkajs producers send with acks=all while the broker is SIGKILLed; after a
 * restart on the same data dir every acknowledged record is readable at the offset it was
 * acknowledged with, and a group's committed offsets survive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.stop();
});

/** No retries while the broker dies (a send fails fast); kafkajs' default retries after the restart. */
const client = (retries?: number) =>
  new Kafka({ brokers: [broker.bootstrap], clientId: 'crash', logLevel: logLevel.NOTHING, ...(retries === undefined ? {} : { retry: { retries } }) });

describe('Kafka durability across SIGKILL', () => {
  it('keeps every acks=all record at its acknowledged offset, and committed offsets', async () => {
    const topic = 'crash-topic';
    const kafka = client(0);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });

    // A committed group offset before the crash.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'seed-0', partition: 0 }, { value: 'seed-1', partition: 0 }] });
    const consumer = kafka.consumer({ groupId: 'crash-g' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (message.value!.toString() === 'seed-1') {
            await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();

    // Four concurrent producers of 10-record batches; the broker dies with requests in flight.
    const acked = new Map<string, string>(); // `${partition}:${offset}` -> value
    let killing: Promise<void> | null = null;
    const loop = async (id: number) => {
      for (let i = 0; ; i++) {
        const partition = (id + i) % 2;
        const values = Array.from({ length: 10 }, (_, j) => `p${id}-b${i}-r${j}`);
        let result;
        try {
          result = await producer.send({ topic, acks: -1, timeout: 5000, messages: values.map((value) => ({ value, partition })) });
        } catch {
          return; // the broker is gone
        }
        const base = Number(result[0]!.baseOffset);
        values.forEach((v, j) => acked.set(`${partition}:${base + j}`, v));
        if (acked.size >= 2000 && !killing) killing = broker.kill();
      }
    };
    await Promise.all([0, 1, 2, 3].map(loop));
    await killing;
    expect(acked.size).toBeGreaterThanOrEqual(2000);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);

    await broker.restart();
    const after = client();
    const admin2 = after.admin();
    await admin2.connect();
    expect(await admin2.fetchOffsets({ groupId: 'crash-g', topics: [topic] })).toEqual([
      {
        topic,
        partitions: expect.arrayContaining([expect.objectContaining({ partition: 0, offset: '2' }), expect.objectContaining({ partition: 1, offset: '-1' })]),
      },
    ]);
    const ends = await admin2.fetchTopicOffsets(topic);
    await admin2.disconnect();

    // Read both partitions from the start and compare every acknowledged record.
    const stored = new Map<string, string>();
    const total = ends.reduce((n, e) => n + Number(e.high), 0);
    const reader = after.consumer({ groupId: 'crash-reader' });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void reader.run({
        eachMessage: async ({ partition, message }) => {
          stored.set(`${partition}:${message.offset}`, message.value!.toString());
          if (stored.size >= total) resolve();
        },
      });
    });
    await reader.disconnect();
    const missing = [...acked].filter(([k, v]) => stored.get(k) !== v);
    expect(missing).toEqual([]);
  });
});
