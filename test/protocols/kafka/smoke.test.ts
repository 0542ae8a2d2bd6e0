import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';

describe('kafkajs smoke', () => {
  let b: InProcessKafka;
  beforeAll(async () => {
    b = await startInProcessKafka();
  });
  afterAll(async () => {
    await b.stop();
  });

  it('produces and consumes', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${b.port}`], clientId: 'smoke', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const r = await producer.send({ topic: 't1', messages: [{ key: 'k', value: 'hello' }, { value: 'world' }] });
    expect(r[0]!.baseOffset).toBe('0');
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'g1' });
    await consumer.connect();
    await consumer.subscribe({ topic: 't1', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got).toEqual(['hello', 'world']);
  }, 30000);
});
