/**
 * kafkajs 2.2.4 against polybroker's Kafka listener: producer, consumer groups rebalancing as
 * members join and leave, admin APIs, and Kafka error codes as kafkajs reports them.
 * kafkajs negotiates pre-flexible versions (Produce v7, Fetch v11, JoinGroup v5, ...).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionTypes, ConfigResourceTypes, Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startKafkaBroker();
  kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'kafkajs-interop', logLevel: logLevel.NOTHING, retry: { retries: 3 } });
});

afterAll(async () => {
  await broker?.stop();
});

/** Resolves when `check` holds, re-evaluated whenever `subscribe`'s callback fires. */
function until<T>(subscribe: (notify: () => void) => void, check: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const test = () => {
      const v = check();
      if (v !== undefined) resolve(v);
    };
    subscribe(test);
    test();
  });
}

describe('kafkajs producer', () => {
  it('gets consecutive offsets with acks=1 and acks=all, and a consumer reads keys, headers and timestamps back', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-produce', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const a = await producer.send({ topic: 'kjs-produce', acks: 1, messages: [{ key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: '1700000000000' }] });
    const b = await producer.send({
      topic: 'kjs-produce',
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [{ key: 'k2', value: 'v2' }, { key: null, value: 'v3' }],
    });
    expect(a[0]).toMatchObject({ topicName: 'kjs-produce', partition: 0, errorCode: 0, baseOffset: '0' });
    expect(b[0]).toMatchObject({ partition: 0, errorCode: 0, baseOffset: '1' });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'kjs-produce-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs-produce', fromBeginning: true });
    const got: EachMessagePayload['message'][] = [];
    await until<true>(
      (notify) => void consumer.run({ eachMessage: async ({ message }) => void (got.push(message), notify()) }),
      () => (got.length >= 3 ? true : undefined),
    );
    await consumer.disconnect();
    expect(got.map((m) => [m.offset, m.key?.toString() ?? null, m.value!.toString()])).toEqual([
      ['0', 'k1', 'v1'],
      ['1', 'k2', 'v2'],
      ['2', null, 'v3'],
    ]);
    expect(got[0]!.headers).toEqual({ h: Buffer.from('x') });
    expect(got[0]!.timestamp).toBe('1700000000000');
  });

  it('partitions keyed records with murmur2 as Kafka does (same key, same partition)', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-keyed', numPartitions: 4 }] });
    const results = await producer.send({ topic: 'kjs-keyed', messages: ['a', 'b', 'c', 'a', 'b', 'c'].map((key) => ({ key, value: key })) });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets('kjs-keyed');
    await admin.disconnect();
    expect(results.every((r) => r.errorCode === 0)).toBe(true);
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(6);
    // Kafka's default partitioner puts each key's two records on one partition.
    expect(offsets.every((o) => Number(o.high) % 2 === 0)).toBe(true);
  });
});

describe('kafkajs consumer group', () => {
  it('rebalances six partitions over three members as they join and leave, and every record is consumed once', async () => {
    const topic = 'kjs-group';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    await admin.disconnect();

    const assignments = new Map<string, number[]>();
    const consumed = new Map<string, string[]>();
    const listeners = new Set<() => void>();
    const notify = () => listeners.forEach((l) => l());
    const waitFor = <T>(check: () => T | undefined) =>
      until<T>((n) => listeners.add(n), check);
    const consumers: Consumer[] = [];
    const start = async (name: string) => {
      // A member learns of a rebalance from a heartbeat, and kafkajs heartbeats between fetches.
      const c = kafka.consumer({ groupId: 'kjs-group-g', heartbeatInterval: 300, sessionTimeout: 10000, rebalanceTimeout: 10000, maxWaitTimeInMs: 300 });
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments.set(name, (e.payload.memberAssignment[topic] ?? []).slice().sort());
        notify();
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        eachMessage: async ({ message }) => {
          consumed.set(name, [...(consumed.get(name) ?? []), message.value!.toString()]);
          notify();
        },
      });
      consumers.push(c);
      return c;
    };
    const partitionsOf = (names: string[]) => names.map((n) => assignments.get(n)?.length ?? -1);
    const covers = (names: string[]) => names.flatMap((n) => assignments.get(n) ?? []).sort().join(',') === '0,1,2,3,4,5';

    await start('a');
    await waitFor(() => (partitionsOf(['a'])[0] === 6 ? true : undefined));
    await start('b');
    await start('c');
    await waitFor(() => (partitionsOf(['a', 'b', 'c']).every((n) => n === 2) && covers(['a', 'b', 'c']) ? true : undefined));

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })) });
    const total = () => [...consumed.values()].reduce((n, l) => n + l.length, 0);
    await waitFor(() => (total() >= 60 ? true : undefined));
    expect(new Set([...consumed.values()].flat()).size).toBe(60);

    // c leaves: a and b take three partitions each.
    const c = consumers.pop()!;
    assignments.delete('c');
    await c.disconnect();
    await waitFor(() => (partitionsOf(['a', 'b']).every((n) => n === 3) && covers(['a', 'b']) ? true : undefined));

    // Records produced after the rebalance are consumed from the committed positions, once.
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `n${i}`, value: `n${i}` })) });
    await waitFor(() => (total() >= 90 ? true : undefined));
    await producer.disconnect();
    const all = [...consumed.values()].flat();
    expect(new Set(all).size).toBe(90);

    const admin2 = kafka.admin();
    await admin2.connect();
    const described = await admin2.describeGroups(['kjs-group-g']);
    expect(described.groups[0]).toMatchObject({ groupId: 'kjs-group-g', state: 'Stable', protocolType: 'consumer' });
    expect(described.groups[0]!.members).toHaveLength(2);
    await admin2.disconnect();
    for (const x of consumers) await x.disconnect();
  });
});

describe('kafkajs admin', () => {
  it('creates, describes, alters, grows and deletes topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    expect(
      await admin.createTopics({
        topics: [{ topic: 'kjs-admin', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'delete' }] }],
      }),
    ).toBe(true);
    // validateOnly creates nothing.
    await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-admin-dry', numPartitions: 1 }] });
    expect(await admin.listTopics()).toContain('kjs-admin');
    expect(await admin.listTopics()).not.toContain('kjs-admin-dry');
    // An existing topic is not created twice (TOPIC_ALREADY_EXISTS, which kafkajs reports as false).
    expect(await admin.createTopics({ topics: [{ topic: 'kjs-admin' }] })).toBe(false);

    const describe1 = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-admin' }] });
    const entries = Object.fromEntries(describe1.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries['retention.ms']).toBe('3600000');
    expect(entries['max.message.bytes']).toBe('1048588');

    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-admin', configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
    const describe2 = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-admin', configNames: ['retention.ms'] }] });
    expect(describe2.resources[0]!.configEntries).toEqual([expect.objectContaining({ configName: 'retention.ms', configValue: '7200000' })]);

    await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-admin', count: 5 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['kjs-admin'] });
    expect(meta.topics[0]!.partitions).toHaveLength(5);

    await admin.deleteTopics({ topics: ['kjs-admin'] });
    expect(await admin.listTopics()).not.toContain('kjs-admin');
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.controller).toBe(cluster.brokers[0]!.nodeId);
    await admin.disconnect();
  });

  it('reads, sets and resets group offsets, lists and deletes groups, deletes records, finds offsets by timestamp', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-offsets', numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now();
    await producer.send({ topic: 'kjs-offsets', messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, timestamp: String(t0 + i * 1000) })) });
    await producer.disconnect();

    await admin.setOffsets({ groupId: 'kjs-offsets-g', topic: 'kjs-offsets', partitions: [{ partition: 0, offset: '4' }] });
    expect(await admin.fetchOffsets({ groupId: 'kjs-offsets-g', topics: ['kjs-offsets'] })).toEqual([
      { topic: 'kjs-offsets', partitions: [expect.objectContaining({ partition: 0, offset: '4' })] },
    ]);
    // kafkajs resets by committing -1 ("latest"), which Kafka stores as is.
    await admin.resetOffsets({ groupId: 'kjs-offsets-g', topic: 'kjs-offsets', earliest: false });
    const reset = await admin.fetchOffsets({ groupId: 'kjs-offsets-g', topics: ['kjs-offsets'] });
    expect(reset[0]!.partitions[0]!.offset).toBe('-1');

    const groups = await admin.listGroups();
    expect(groups.groups.map((g) => g.groupId)).toContain('kjs-offsets-g');

    expect(await admin.fetchTopicOffsetsByTimestamp('kjs-offsets', t0 + 3500)).toEqual([{ partition: 0, offset: '4' }]);

    await admin.deleteTopicRecords({ topic: 'kjs-offsets', partitions: [{ partition: 0, offset: '3' }] });
    const offsets = await admin.fetchTopicOffsets('kjs-offsets');
    expect(offsets[0]).toMatchObject({ partition: 0, low: '3', high: '10' });

    await admin.deleteGroups(['kjs-offsets-g']);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('kjs-offsets-g');
    await admin.disconnect();
  });

  it('reports Kafka error codes: INVALID_PARTITIONS, INVALID_CONFIG, NON_EMPTY_GROUP, INVALID_TOPIC_EXCEPTION, UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-errors', numPartitions: 3 }] });
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'kjs-errors', count: 2 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    await expect(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-errors', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(admin.createTopics({ topics: [{ topic: 'bad topic!' }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' })],
    });
    // Retriable in Kafka's terms, so kafkajs retries before giving up.
    await expect(admin.deleteTopics({ topics: ['kjs-no-such-topic'] })).rejects.toMatchObject({ cause: expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }) });

    const consumer = kafka.consumer({ groupId: 'kjs-errors-g' });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs-errors' });
    await consumer.run({ eachMessage: async () => {} });
    await joined;
    await expect(admin.deleteGroups(['kjs-errors-g'])).rejects.toMatchObject({
      groups: [expect.objectContaining({ groupId: 'kjs-errors-g', errorCode: 68 })],
    });
    await admin.disconnect();
    await consumer.disconnect();
  });
});
