/**
 * `kafka.fetchMaxBytes`, the broker's `fetch.max.bytes` (docs/kafka.md): a Fetch response carries
 * at most that many record bytes whatever the request's max_bytes asks, except that its first
 * batch goes out whole (KIP-74), so a consumer still gets every record, in order. Seen from
 * kafkajs asking for 50 MiB per fetch; response sizes read from its REQUEST instrumentation events.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../helpers/broker.js';

const CAP = 16 * 1024;
/** Response header, topic and partition fields around the records of a one-partition Fetch. */
const OVERHEAD = 1024;
const BIG = 40_000;

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { kafka: { fetchMaxBytes: CAP } } });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('kafka.fetchMaxBytes', () => {
  it('bounds every Fetch response although kafkajs asks for 50 MiB; a larger batch still comes whole; every record arrives in order', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'fetch-cap', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const expected: string[] = [];
    const value = (i: number, size = 1000) => `${String(i).padStart(6, '0')}`.padEnd(size, '.');
    // 30 batches of 10 records of ~1 KB (~10 KiB each, ~300 KiB in all), one 40 KB record in the middle.
    for (let b = 0; b < 30; b++) {
      if (b === 15) {
        expected.push(value(expected.length, BIG));
        await producer.send({ topic: 'capped', messages: [{ value: expected.at(-1)! }] });
      }
      const messages = [];
      for (let r = 0; r < 10; r++) {
        expected.push(value(expected.length));
        messages.push({ value: expected.at(-1)! });
      }
      await producer.send({ topic: 'capped', messages });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'fetch-cap', maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 50 * 1024 * 1024, maxWaitTimeInMs: 200 });
    const sizes: number[] = [];
    consumer.on(consumer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Fetch') sizes.push(e.payload.size);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'capped', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === expected.length) resolve();
        },
      });
    });
    await consumer.disconnect();

    expect(got.length).toBe(expected.length);
    expect(got.every((v, i) => v === expected[i])).toBe(true);
    // ~340 KB of records against a 16 KiB cap: many responses, none over the cap but the one led by the 40 KB batch.
    expect(sizes.filter((s) => s > 2 * 1024).length).toBeGreaterThanOrEqual(20);
    const overCap = sizes.filter((s) => s > CAP + OVERHEAD);
    expect(overCap.length).toBeLessThanOrEqual(1);
    for (const s of overCap) expect(s).toBeLessThan(BIG + OVERHEAD);
  }, 60_000);

  it('is reported by DescribeConfigs as fetch.max.bytes', async () => {
    const admin = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'fetch-cap-admin', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const r = await admin.describeConfigs({ resources: [{ type: 4, name: '1', configNames: ['fetch.max.bytes'] }], includeSynonyms: false });
    await admin.disconnect();
    expect(r.resources[0]!.configEntries.find((e) => e.configName === 'fetch.max.bytes')?.configValue).toBe(String(CAP));
  });
});
