/**
 * @platformatic/kafka 1.35 (flexible versions only) against polybroker: an idempotent producer, and a transactional one committing and
 * aborting, read back by a read_committed consumer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.stop();
});

async function readValues(topic: string, n: number): Promise<string[]> {
  const consumer = new Consumer({ groupId: `pk-eos-${topic}`, clientId: 'pk-eos-consumer', bootstrapBrokers: [broker.bootstrap], deserializers: stringDeserializers });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
  const got: string[] = [];
  for await (const m of stream) {
    got.push(m.value as string);
    if (got.length === n) break;
  }
  await stream.close();
  await consumer.close();
  return got;
}

describe('@platformatic/kafka exactly-once', () => {
  it('idempotent producer: consecutive offsets; transactions: committed records visible, aborted ones not', async () => {
    const bootstrapBrokers = [broker.bootstrap];
    const admin = new Admin({ clientId: 'pk-eos-admin', bootstrapBrokers });
    await admin.createTopics({ topics: ['pk-idem', 'pk-txn'], partitions: 1, replicas: 1 });
    await admin.close();

    const idem = new Producer({ clientId: 'pk-idem', bootstrapBrokers, serializers: stringSerializers, idempotent: true });
    const a = await idem.send({ messages: [{ topic: 'pk-idem', value: 'i1', partition: 0 }] });
    const b = await idem.send({ messages: [{ topic: 'pk-idem', value: 'i2', partition: 0 }, { topic: 'pk-idem', value: 'i3', partition: 0 }] });
    await idem.close();
    expect([Number(a.offsets![0]!.offset), Number(b.offsets![0]!.offset)]).toEqual([0, 1]);

    const txp = new Producer({ clientId: 'pk-txn', bootstrapBrokers, serializers: stringSerializers, idempotent: true, transactionalId: 'pk-txn-1' });
    const t1 = await txp.beginTransaction();
    await t1.send({ messages: [{ topic: 'pk-txn', value: 'c1', partition: 0 }] });
    await t1.commit();
    const t2 = await txp.beginTransaction();
    await t2.send({ messages: [{ topic: 'pk-txn', value: 'a1', partition: 0 }] });
    await t2.abort();
    const t3 = await txp.beginTransaction();
    await t3.send({ messages: [{ topic: 'pk-txn', value: 'c2', partition: 0 }] });
    await t3.commit();
    await txp.close();
    expect(await readValues('pk-txn', 2)).toEqual(['c1', 'c2']);
    expect(await readValues('pk-idem', 3)).toEqual(['i1', 'i2', 'i3']);
  });
});
