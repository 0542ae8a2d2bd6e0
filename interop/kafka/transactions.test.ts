/**
 * Transactions with kafkajs 2.2.4 against polybroker: commit and abort, read_committed and
 * read_uncommitted consumers checking exactly what they see (kafkajs consumers default to
 * read_committed), an open transaction holding back read_committed readers at the last stable
 * offset, offsets committed inside a transaction (consume-transform-produce), fencing of a
 * zombie producer by a new one with the same transactional id, and a broker restart with a
 * transaction open (aborted on restart, as a coordinator failover with an expired timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';
import { runPython } from './helpers/python.js';

let broker: KafkaBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startKafkaBroker();
  kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'txn-interop', logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
});

afterAll(async () => {
  await broker?.stop();
});

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
}

/** A consumer that collects values; `next(n)` resolves once n values have arrived. */
async function reader(topic: string, readUncommitted: boolean): Promise<{ values: string[]; next(n: number): Promise<string[]>; consumer: Consumer }> {
  const consumer = kafka.consumer({ groupId: `r-${topic}-${readUncommitted}-${Date.now()}`, readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  let wake = () => {};
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value!.toString());
      wake();
    },
  });
  return {
    values,
    consumer,
    next: (n) =>
      new Promise((resolve) => {
        const check = () => (values.length >= n ? resolve(values.slice()) : undefined);
        wake = check;
        check();
      }),
  };
}

describe('python3-confluent-kafka transactions', () => {
  it('commit and abort; read_committed sees the committed records, read_uncommitted all of them', async () => {
    await createTopic('txn-ck');
    const r = await runPython('confluent_eos_client.py', [broker.bootstrap, 'transactions', 'txn-ck']);
    expect(r.steps).toEqual(['commit', 'abort', 'commit']);
    const committed = await runPython('confluent_eos_client.py', [broker.bootstrap, 'read', 'txn-ck', '3', 'read_committed']);
    expect((committed.got as [number, string][]).map((g) => g[1])).toEqual(['c1', 'c2', 'c3']);
    const all = await runPython('confluent_eos_client.py', [broker.bootstrap, 'read', 'txn-ck', '5', 'read_uncommitted']);
    expect((all.got as [number, string][]).map((g) => g[1])).toEqual(['c1', 'c2', 'a1', 'a2', 'c3']);
  });
});

describe('kafkajs transactions', () => {
  it('read_committed sees committed records only, stops at an open transaction, and continues when it commits; read_uncommitted sees every record', async () => {
    await createTopic('txn-basic');
    const producer = kafka.producer({ transactionalId: 'txn-basic-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic: 'txn-basic', messages: [{ value: 'c1' }, { value: 'c2' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: 'txn-basic', messages: [{ value: 'a1' }, { value: 'a2' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic: 'txn-basic', messages: [{ value: 'c3' }] });
    await t3.commit();
    const t4 = await producer.transaction();
    await t4.send({ topic: 'txn-basic', messages: [{ value: 'o1' }] });

    const committed = await reader('txn-basic', false);
    const all = await reader('txn-basic', true);
    expect(await committed.next(3)).toEqual(['c1', 'c2', 'c3']);
    expect(await all.next(6)).toEqual(['c1', 'c2', 'a1', 'a2', 'c3', 'o1']);
    const admin = kafka.admin();
    await admin.connect();
    // The open transaction holds the last stable offset at its first record, offset 8 (c1 c2 marker a1 a2 marker c3 marker o1).
    const [lso] = await admin.fetchTopicOffsets('txn-basic');
    expect(lso!.high).toBe('8');
    expect(committed.values).toEqual(['c1', 'c2', 'c3']);
    await t4.commit();
    expect(await committed.next(4)).toEqual(['c1', 'c2', 'c3', 'o1']);
    await admin.disconnect();
    await Promise.all([committed.consumer.disconnect(), all.consumer.disconnect(), producer.disconnect()]);
  });

  it('consume-transform-produce: offsets sent in a transaction are committed with it, and not when it aborts', async () => {
    await createTopic('txn-out');
    const producer = kafka.producer({ transactionalId: 'txn-ctp', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic: 'txn-out', messages: [{ value: 'x' }] });
    await t1.sendOffsets({ consumerGroupId: 'ctp-group', topics: [{ topic: 'txn-out', partitions: [{ partition: 0, offset: '5' }] }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: 'txn-out', messages: [{ value: 'y' }] });
    await t2.sendOffsets({ consumerGroupId: 'ctp-group', topics: [{ topic: 'txn-out', partitions: [{ partition: 0, offset: '9' }] }] });
    await t2.abort();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'ctp-group', topics: ['txn-out'] });
    await admin.disconnect();
    expect(offsets[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '5' })]);
  });

  it('a new producer with the same transactional id fences the old one and aborts its open transaction', async () => {
    await createTopic('txn-fence');
    const zombie = kafka.producer({ transactionalId: 'txn-fence-1', maxInFlightRequests: 1, idempotent: true });
    await zombie.connect();
    const zt = await zombie.transaction();
    await zt.send({ topic: 'txn-fence', messages: [{ value: 'zombie' }] });

    const successor = kafka.producer({ transactionalId: 'txn-fence-1', maxInFlightRequests: 1, idempotent: true });
    await successor.connect();
    // kafkajs sends the transactional InitProducerId when the first transaction begins.
    const st = await successor.transaction();
    await expect(zt.commit()).rejects.toThrow(/fenced|epoch/i);
    await st.send({ topic: 'txn-fence', messages: [{ value: 'successor' }] });
    await st.commit();
    const committed = await reader('txn-fence', false);
    expect(await committed.next(1)).toEqual(['successor']);
    await Promise.all([committed.consumer.disconnect(), successor.disconnect(), zombie.disconnect().catch(() => undefined)]);
  });

  it('a transaction open when the broker is killed is aborted on restart; committed records stay, read by kafkajs and librdkafka in read_committed', async () => {
    await createTopic('txn-restart');
    const producer = kafka.producer({ transactionalId: 'txn-restart-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic: 'txn-restart', messages: [{ value: 'kept' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: 'txn-restart', messages: [{ value: 'lost' }] });
    await producer.disconnect();
    // SIGKILL: no graceful stop; the open transaction is only in __transaction_state and the partition.
    await broker.kill();
    await broker.restart();
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'txn-interop', logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });

    const next = kafka.producer({ transactionalId: 'txn-restart-1', maxInFlightRequests: 1, idempotent: true });
    await next.connect();
    const t3 = await next.transaction();
    await t3.send({ topic: 'txn-restart', messages: [{ value: 'after' }] });
    await t3.commit();
    await next.disconnect();
    const committed = await reader('txn-restart', false);
    expect(await committed.next(2)).toEqual(['kept', 'after']);
    await committed.consumer.disconnect();
    const ck = await runPython('confluent_eos_client.py', [broker.bootstrap, 'read', 'txn-restart', '2', 'read_committed']);
    expect((ck.got as [number, string][]).map((g) => g[1])).toEqual(['kept', 'after']);
    const ckAll = await runPython('confluent_eos_client.py', [broker.bootstrap, 'read', 'txn-restart', '3', 'read_uncommitted']);
    expect((ckAll.got as [number, string][]).map((g) => g[1])).toEqual(['kept', 'lost', 'after']);
  });
});
