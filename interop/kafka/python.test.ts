/**
 * The Python Kafka clients Debian ships, against polybroker: python3-confluent-kafka (librdkafka
 * 2.0.2: producer with acks=all and every codec, consumer group with commits, admin) and
 * python3-kafka (kafka-python 2.0.2: producer, group consumer, admin). Each scenario is a script
 * in ./python that prints one JSON object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';
import { runPython } from './helpers/python.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.stop();
});

describe('python3-confluent-kafka', () => {
  it('produces with acks=all in every codec, consumes as a group, commits, and a new consumer resumes', async () => {
    const r = await runPython('confluent_kafka_client.py', [broker.bootstrap, 'produce-consume']);
    expect(r.produced).toEqual(Array.from({ length: 11 }, (_, i) => [null, 0, i]));
    const consumed = r.consumed as { offset: number; value: string; key: string; headers: string[][] }[];
    expect(consumed.map((m) => [m.offset, m.value])).toEqual(
      ['none', 'gzip', 'snappy', 'lz4', 'zstd'].flatMap((c, ci) => [[ci * 2, `${c}-0`], [ci * 2 + 1, `${c}-1`]]),
    );
    expect(consumed[1]).toMatchObject({ key: 'k1', headers: [['h', 'v1']] });
    expect(r.committed).toEqual([[0, 10]]);
    expect(r.after_restart).toEqual([{ offset: 10, partition: 0, key: 'k0', value: 'lz4-0', headers: [['h', 'v0']] }]);
  });

  it('admin: create (with configs), TOPIC_ALREADY_EXISTS, create partitions, INVALID_PARTITIONS, describe/alter configs, delete, UNKNOWN_TOPIC_OR_PART', async () => {
    const r = await runPython('confluent_kafka_client.py', [broker.bootstrap, 'admin']);
    expect(r).toMatchObject({
      create: { 'ck-admin': null },
      create_again: { 'ck-admin': 'TOPIC_ALREADY_EXISTS' },
      partitions: { 'ck-admin': null },
      shrink: { 'ck-admin': 'INVALID_PARTITIONS' },
      configs: { 'retention.ms': '60000', 'cleanup.policy': 'delete', 'max.message.bytes': '1048588' },
      alter: [null],
      configs_after: { 'retention.ms': '120000', 'cleanup.policy': 'delete' },
      partitions_after: 3,
      brokers: [[1, broker.port]],
      delete: { 'ck-admin': null },
      delete_again: { 'ck-admin': 'UNKNOWN_TOPIC_OR_PART' },
    });
  });
});

describe('python3-confluent-kafka with the cooperative-sticky assignor', () => {
  it('two members share four partitions (disjoint, complete) and consume every record', async () => {
    const r = await runPython('confluent_kafka_client.py', [broker.bootstrap, 'cooperative']);
    expect(r.consumed).toBe(40);
    const a = r.a as number[];
    const b = r.b as number[];
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3]);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });
});

describe('python3-confluent-kafka static membership (KIP-345)', () => {
  it('a restarted static member gets its partitions back and the other member is not revoked', async () => {
    const r = await runPython('confluent_kafka_client.py', [broker.bootstrap, 'static']);
    const before = r.before as Record<string, number[]>;
    expect([...before.i1!, ...before.i2!].sort()).toEqual([0, 1, 2, 3]);
    expect(r.i1_after).toEqual(before.i1);
    expect(r.i2_revoked_after_restart).toBe(0);
  });
});

describe('python3-kafka (kafka-python)', () => {
  it('produces with acks=all and gzip, consumes as a group, commits with metadata; admin creates, grows, describes and deletes', async () => {
    const r = await runPython('kafka_python_client.py', [broker.bootstrap, 'produce-consume']);
    expect(r).toEqual({
      produced: [[0, 0], [0, 1], [0, 2], [0, 3], [0, 4]],
      consumed: [0, 1, 2, 3, 4].map((i) => [i, `k${i}`, `v${i}`, [['h', 'x']]]),
      committed: 5,
      topics: ['kp-admin', 'kp-topic'],
      groups: [['kp-g', 'Empty']],
      offsets: [['kp-topic', 0, 5, 'kp-meta']],
      topics_after: ['kp-topic'],
    });
  });

  it('produces gzip, snappy, lz4 and zstd batches that read back in order', async () => {
    const r = await runPython('kafka_python_client.py', [broker.bootstrap, 'codecs']);
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    expect(r.produced).toEqual(codecs.flatMap((c, ci) => [0, 1, 2].map((i) => [c, ci * 3 + i])));
    expect(r.consumed).toEqual(codecs.flatMap((c, ci) => [0, 1, 2].map((i) => [ci * 3 + i, `${c}-${i}`])));
  });
});
