/**
 * @platformatic/kafka 1.35.0 (the last release that runs on Node 20; 2.x needs Node >= 22.22)
 * against polybroker. It negotiates only flexible versions (Produce 7-11, Fetch 12-17 by topic id,
 * Metadata 9-12, JoinGroup 6-9, ApiVersions 3/4 ...), so this covers the compact encodings and
 * tagged fields of the codec.
 */
import { execFile } from 'node:child_process';
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

describe('@platformatic/kafka', () => {
  it('creates a topic, produces, consumes as a group from the earliest offset, and lists the group', async () => {
    const bootstrapBrokers = [broker.bootstrap];
    const admin = new Admin({ clientId: 'pk-admin', bootstrapBrokers });
    await admin.createTopics({ topics: ['pk-topic'], partitions: 2, replicas: 1 });
    expect(await admin.listTopics()).toContain('pk-topic');

    const producer = new Producer({ clientId: 'pk-producer', bootstrapBrokers, serializers: stringSerializers });
    const sent = await producer.send({
      messages: [
        { topic: 'pk-topic', key: 'a', value: 'x1', partition: 0, headers: new Map([['h', 'v']]) },
        { topic: 'pk-topic', key: 'b', value: 'x2', partition: 1 },
        { topic: 'pk-topic', key: 'c', value: 'x3', partition: 0 },
      ],
    });
    await producer.close();
    expect(sent.offsets!.map((o) => [o.partition, Number(o.offset)]).sort()).toEqual([[0, 0], [1, 0]]);

    const consumer = new Consumer({ groupId: 'pk-group', clientId: 'pk-consumer', bootstrapBrokers, deserializers: stringDeserializers });
    const stream = await consumer.consume({ topics: ['pk-topic'], mode: 'earliest' });
    const got: string[] = [];
    for await (const m of stream) {
      got.push(`${m.partition}:${m.offset}:${m.key}:${m.value}`);
      if (got.length === 3) break;
    }
    await stream.close();
    await consumer.close();
    expect(got.sort()).toEqual(['0:0:a:x1', '0:1:c:x3', '1:0:b:x2']);

    const groups = await admin.listGroups();
    expect([...groups.keys()]).toContain('pk-group');
    await admin.deleteTopics({ topics: ['pk-topic'] });
    expect(await admin.listTopics()).not.toContain('pk-topic');
    await admin.close();
  });

  it('admin over flexible versions: incremental configs (SET, APPEND, DELETE), describe configs, group offsets, delete records, delete groups', async () => {
    const bootstrapBrokers = [broker.bootstrap];
    const admin = new Admin({ clientId: 'pk-admin2', bootstrapBrokers });
    await admin.createTopics({ topics: ['pk-admin'], partitions: 1, replicas: 1 });
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 2,
          resourceName: 'pk-admin',
          configs: [
            { name: 'retention.ms', configOperation: 0, value: '90000' },
            { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
          ],
        },
      ],
    });
    const described = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: 'pk-admin', configurationKeys: ['retention.ms', 'cleanup.policy'] }] });
    expect(Object.fromEntries(described[0]!.configs.map((c) => [c.name, c.value]))).toEqual({ 'retention.ms': '90000', 'cleanup.policy': 'delete,compact' });
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: 2, resourceName: 'pk-admin', configs: [{ name: 'retention.ms', configOperation: 1 }] }] });
    const after = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: 'pk-admin', configurationKeys: ['retention.ms'] }] });
    expect(after[0]!.configs[0]!.value).toBe('604800000');

    const producer = new Producer({ clientId: 'pk-p2', bootstrapBrokers, serializers: stringSerializers });
    // Keyed: the topic is compacted now, and compacted topics refuse records without a key.
    await producer.send({ messages: Array.from({ length: 5 }, (_, i) => ({ topic: 'pk-admin', key: `k${i}`, value: `r${i}`, partition: 0 })) });
    await producer.close();
    const deleted = await admin.deleteRecords({ topics: [{ name: 'pk-admin', partitions: [{ partition: 0, offset: 2n }] }] });
    expect(deleted[0]!.partitions[0]!.lowWatermark).toBe(2n);

    await admin.alterConsumerGroupOffsets({ groupId: 'pk-offsets', topics: [{ name: 'pk-admin', partitionOffsets: [{ partition: 0, offset: 3n }] }] });
    const offsets = await admin.listConsumerGroupOffsets({ groups: ['pk-offsets'] });
    expect(offsets[0]!.topics[0]!.partitions[0]!.committedOffset).toBe(3n);
    // OffsetDelete (KIP-496) on a group with no members.
    await admin.deleteConsumerGroupOffsets({ groupId: 'pk-offsets', topics: [{ name: 'pk-admin', partitionIndexes: [0] }] });
    const cleared = await admin.listConsumerGroupOffsets({ groups: ['pk-offsets'] });
    expect(cleared[0]!.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset))).toEqual([]);
    await admin.deleteGroups({ groups: ['pk-offsets'] });
    expect([...(await admin.listGroups()).keys()]).not.toContain('pk-offsets');
    await admin.close();
  });

  it('produces gzip, snappy and lz4 batches (its wasm codecs) that librdkafka (kcat) reads back', async () => {
    const producer = new Producer({ clientId: 'pk-codecs', bootstrapBrokers: [broker.bootstrap], serializers: stringSerializers, autocreateTopics: true });
    for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
      await producer.send({ messages: [0, 1].map((i) => ({ topic: 'pk-codecs', value: `${compression}-${i}`, partition: 0 })), compression });
    }
    await producer.close();
    const out = await new Promise<string>((resolve, reject) =>
      execFile('kcat', ['-b', broker.bootstrap, '-C', '-t', 'pk-codecs', '-o', 'beginning', '-e', '-f', '%o %s\n'], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    expect(out.trim().split('\n')).toEqual(['gzip', 'snappy', 'lz4'].flatMap((c, ci) => [0, 1].map((i) => `${ci * 2 + i} ${c}-${i}`)));
  });
});
