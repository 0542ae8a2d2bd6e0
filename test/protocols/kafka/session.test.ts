import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersions, fetch, metadata, produce } from '../../../protocols/kafka/schema/apis.js';
import { HANDLERS } from '../../../protocols/kafka/handlers/index.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';
import { RawKafkaClient } from './helpers/raw-client.js';

let b: InProcessKafka;

beforeAll(async () => {
  b = await startInProcessKafka({ maxRequestBytes: 4096 });
});

afterAll(async () => {
  await b.stop();
});

describe('Kafka session', () => {
  it('ApiVersions advertises exactly the handler table, with minVersion 0 on every key (librdkafka needs it)', async () => {
    const c = await RawKafkaClient.connect(b.port);
    const { bytes, correlationId } = c.request(apiVersions, 3, { clientSoftwareName: 'raw-test', clientSoftwareVersion: '1.0' });
    c.write(bytes);
    // ApiVersions answers with response header v0 even for a flexible request (KIP-511).
    const r = await c.response(apiVersions, 3, true);
    expect(r.correlationId).toBe(correlationId);
    expect(r.body.errorCode).toBe(0);
    expect(r.body.apiKeys).toEqual(
      HANDLERS.map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion })).sort((x, y) => x.apiKey - y.apiKey),
    );
    expect(r.body.apiKeys.every((k: { minVersion: number }) => k.minVersion === 0)).toBe(true);
    c.end();
  });

  it('answers an ApiVersions version it does not know in v0 with UNSUPPORTED_VERSION and its ranges', async () => {
    const c = await RawKafkaClient.connect(b.port);
    // v9 of ApiVersions does not exist: only the header is readable, as for a future client.
    const header = Buffer.alloc(4 + 10);
    header.writeInt32BE(10, 0);
    header.writeInt16BE(18, 4);
    header.writeInt16BE(9, 6);
    header.writeInt32BE(77, 8);
    header.writeInt16BE(-1, 12);
    c.write(header);
    const r = await c.response(apiVersions, 0);
    expect(r.correlationId).toBe(77);
    expect(r.body.errorCode).toBe(35);
    expect(r.body.apiKeys.find((k: { apiKey: number }) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
    c.end();
  });

  it('closes the connection on an unknown API key and on an unsupported version of another API', async () => {
    for (const [apiKey, version] of [[9999, 0], [3, 99]] as const) {
      const c = await RawKafkaClient.connect(b.port);
      const f = Buffer.alloc(14);
      f.writeInt32BE(10, 0);
      f.writeInt16BE(apiKey, 4);
      f.writeInt16BE(version, 6);
      f.writeInt32BE(1, 8);
      f.writeInt16BE(-1, 12);
      c.write(f);
      await c.closedByBroker();
      expect(await c.nextFrame()).toBeNull();
    }
  });

  it('a malformed request closes only its connection, with a log line naming the API key and version', async () => {
    const other = await RawKafkaClient.connect(b.port);
    const bad = await RawKafkaClient.connect(b.port);
    const { bytes } = bad.request(metadata, 1, { topics: [{ name: 'x' }] });
    // Claim a topics array of 1000 entries in a frame that holds one.
    const corrupt = Buffer.from(bytes);
    corrupt.writeInt32BE(1000, 4 + 8 + 2 + 3);
    bad.write(corrupt);
    await bad.closedByBroker();
    expect(b.logs.some((l) => l.msg === 'malformed request: closing connection' && l.apiKey === 3 && l.apiVersion === 1)).toBe(true);
    const { bytes: ok, correlationId } = other.request(apiVersions, 0, {});
    other.write(ok);
    expect((await other.response(apiVersions, 0)).correlationId).toBe(correlationId);
    other.end();
  });

  it('closes a connection whose request exceeds maxRequestBytes before reading it', async () => {
    const c = await RawKafkaClient.connect(b.port);
    const big = Buffer.alloc(8);
    big.writeInt32BE(1 << 20, 0);
    c.write(big);
    await c.closedByBroker();
    expect(b.logs.some((l) => l.msg === 'request larger than maxRequestBytes: closing connection')).toBe(true);
  });

  it('answers pipelined requests in order, even when an earlier one long-polls', async () => {
    const c = await RawKafkaClient.connect(b.port);
    const create = c.request(metadata, 4, { topics: [{ name: 'pipelined' }], allowAutoTopicCreation: true });
    c.write(create.bytes);
    await c.response(metadata, 4);
    const poll = c.request(fetch, 11, {
      replicaId: -1,
      maxWaitMs: 300,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'pipelined', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const quick = c.request(apiVersions, 2, {});
    const meta = c.request(metadata, 9, { topics: null, allowAutoTopicCreation: false });
    // All three in one write.
    c.write(Buffer.concat([poll.bytes, quick.bytes, meta.bytes]));
    const r1 = await c.response(fetch, 11);
    const r2 = await c.response(apiVersions, 2);
    const r3 = await c.response(metadata, 9);
    expect([r1.correlationId, r2.correlationId, r3.correlationId]).toEqual([poll.correlationId, quick.correlationId, meta.correlationId]);
    expect(r1.body.responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 0, records: Buffer.alloc(0) });
    c.end();
  });

  it('a Fetch long poll is woken by a produce on another connection', async () => {
    const consumer = await RawKafkaClient.connect(b.port);
    const producer = await RawKafkaClient.connect(b.port);
    const m = consumer.request(metadata, 4, { topics: [{ name: 'wakeup' }], allowAutoTopicCreation: true });
    consumer.write(m.bytes);
    await consumer.response(metadata, 4);
    const poll = consumer.request(fetch, 4, {
      replicaId: -1,
      maxWaitMs: 30000,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      topics: [{ topic: 'wakeup', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    consumer.write(poll.bytes);
    const { Kafka, logLevel } = await import('kafkajs');
    const p = new Kafka({ brokers: [`127.0.0.1:${b.port}`], logLevel: logLevel.NOTHING }).producer();
    await p.connect();
    await p.send({ topic: 'wakeup', messages: [{ value: 'wake' }] });
    await p.disconnect();
    const r = await consumer.response(fetch, 4);
    const part = r.body.responses[0].partitions[0];
    expect(part).toMatchObject({ errorCode: 0, highWatermark: 1, lastStableOffset: 1, abortedTransactions: [] });
    expect(part.records.length).toBeGreaterThan(61);
    consumer.end();
    producer.end();
  });

  it('Produce with acks=0 gets no response; the next request is answered', async () => {
    const c = await RawKafkaClient.connect(b.port);
    const p = c.request(produce, 3, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'acks0', partitionData: [{ index: 0, records: null }] }] });
    const q = c.request(apiVersions, 0, {});
    c.write(Buffer.concat([p.bytes, q.bytes]));
    expect((await c.response(apiVersions, 0)).correlationId).toBe(q.correlationId);
    c.end();
  });
});

describe('Metadata error codes', () => {
  it('UNKNOWN_TOPIC_OR_PARTITION when auto-creation is not allowed, INVALID_TOPIC_EXCEPTION for an illegal name, and auto-creation otherwise', async () => {
    const c = await RawKafkaClient.connect(b.port);
    const m = c.request(metadata, 9, {
      topics: [{ name: 'no-create' }, { name: 'bad name!' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    c.write(m.bytes);
    const r = await c.response(metadata, 9);
    expect(r.body.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode])).toEqual([
      ['no-create', 3],
      ['bad name!', 17],
    ]);
    const m2 = c.request(metadata, 12, { topics: [{ topicId: Buffer.alloc(16), name: 'auto-created' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    c.write(m2.bytes);
    const r2 = await c.response(metadata, 12);
    expect(r2.body.topics[0]).toMatchObject({ name: 'auto-created', errorCode: 0, partitions: [expect.objectContaining({ partitionIndex: 0, leaderId: 1 })] });
    expect(r2.body.topics[0].topicId).not.toEqual(Buffer.alloc(16));
    expect(r2.body.clusterId).toBe('polybroker-cluster-0001');
    c.end();
  });
});

describe('APIs no stock client here reaches', () => {
  it('OffsetForLeaderEpoch answers epoch 0 with the high watermark; DescribeCluster names this node; ListOffsets -3 finds the max timestamp record', async () => {
    const { offsetForLeaderEpoch, describeCluster, listOffsets } = await import('../../../protocols/kafka/schema/apis.js');
    const { encodeRecordBatch } = await import('../../../storage/record-batch.js');
    const c = await RawKafkaClient.connect(b.port);
    const m = c.request(metadata, 4, { topics: [{ name: 'epochs' }], allowAutoTopicCreation: true });
    c.write(m.bytes);
    await c.response(metadata, 4);
    const records = encodeRecordBatch({ records: [1000, 3000, 2000].map((ts) => ({ value: Buffer.from('x'), timestamp: ts })) });
    const p = c.request(produce, 7, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'epochs', partitionData: [{ index: 0, records }] }] });
    c.write(p.bytes);
    await c.response(produce, 7);

    const e = c.request(offsetForLeaderEpoch, 3, { replicaId: -1, topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 5, currentLeaderEpoch: 0, leaderEpoch: 0 }] }] });
    c.write(e.bytes);
    const er = await c.response(offsetForLeaderEpoch, 3);
    expect(er.body.topics[0].partitions).toEqual([
      { errorCode: 0, partition: 0, leaderEpoch: 0, endOffset: 3 },
      { errorCode: 3, partition: 5, leaderEpoch: -1, endOffset: -1 },
    ]);

    const d = c.request(describeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    c.write(d.bytes);
    const dr = await c.response(describeCluster, 1);
    expect(dr.body).toMatchObject({ errorCode: 0, clusterId: 'polybroker-cluster-0001', controllerId: 1, brokers: [{ brokerId: 1, host: '127.0.0.1', port: b.port, rack: null }] });

    const l = c.request(listOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'epochs', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }, { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: 1500 }] }] });
    c.write(l.bytes);
    const lr = await c.response(listOffsets, 7);
    expect(lr.body.topics[0].partitions.map((x: { offset: number; timestamp: number }) => [x.offset, x.timestamp])).toEqual([
      [1, 3000],
      [1, 3000],
    ]);
    c.end();
  });
});
