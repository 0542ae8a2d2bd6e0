import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch, readRecordBatchHeader, verifyRecordBatchCrc } from '../../../storage/record-batch.js';
import { createTopics, fetch, produce } from '../../../protocols/kafka/schema/apis.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';
import { RawKafkaClient } from './helpers/raw-client.js';

let b: InProcessKafka;
let c: RawKafkaClient;

beforeAll(async () => {
  b = await startInProcessKafka();
  c = await RawKafkaClient.connect(b.port);
  const r = c.request(createTopics, 4, {
    topics: [
      { name: 'plain', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      { name: 'appendtime', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
      { name: 'small', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'max.message.bytes', value: '200' }] },
      { name: 'compacted', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact,delete' }] },
    ],
    timeoutMs: 1000,
    validateOnly: false,
  });
  c.write(r.bytes);
  const res = await c.response(createTopics, 4);
  expect(res.body.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([0, 0, 0, 0]);
});

afterAll(async () => {
  c.end();
  await b.stop();
});

async function produceTo(topic: string, records: Buffer, version = 7, partition = 0): Promise<Record<string, unknown>> {
  const r = c.request(produce, version, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  c.write(r.bytes);
  return (await c.response(produce, version)).body.responses[0].partitionResponses[0];
}

const batch = (n: number, opts: Parameters<typeof encodeRecordBatch>[0] extends infer T ? Partial<T> : never = {}) =>
  encodeRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: 1_700_000_000_000 + i })), ...opts });

describe('Produce', () => {
  it('assigns consecutive base offsets and reports the log start offset', async () => {
    expect(await produceTo('plain', batch(3))).toMatchObject({ errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 });
    expect(await produceTo('plain', batch(2))).toMatchObject({ errorCode: 0, baseOffset: 3 });
  });

  it('refuses a batch whose CRC does not match with CORRUPT_MESSAGE', async () => {
    const bad = batch(1);
    bad[bad.length - 1] ^= 0xff;
    expect(await produceTo('plain', bad)).toMatchObject({ errorCode: 2 });
  });

  it('refuses old message formats (magic 0/1) with UNSUPPORTED_FOR_MESSAGE_FORMAT and says why', async () => {
    const old = batch(1);
    old.writeInt8(1, 16);
    const r = await produceTo('plain', old, 8); // errorMessage is v8+
    expect(r).toMatchObject({ errorCode: 43 });
    expect(r.errorMessage).toMatch(/RecordBatch v2/);
  });

  it('refuses records without a key on a compacted topic with INVALID_RECORD, naming the record from v8 on', async () => {
    const keyed = (i: number) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1_700_000_000_000 + i });
    const mixed = [keyed(0), keyed(1), { key: null, value: Buffer.from('x'), timestamp: 1_700_000_000_002 }];
    const v9 = await produceTo('compacted', encodeRecordBatch({ records: mixed }), 9);
    expect(v9).toMatchObject({ errorCode: 87, baseOffset: -1, recordErrors: [{ batchIndex: 2, batchIndexErrorMessage: 'Compacted topic cannot accept message without key in topic partition compacted-0' }] });
    expect(v9.errorMessage).toMatch(/without key/);
    // Older versions get the same code (Kafka does not translate it), without the record errors.
    expect(await produceTo('compacted', encodeRecordBatch({ records: mixed }), 7)).toMatchObject({ errorCode: 87 });
    // Compressed batches are looked into too.
    expect(await produceTo('compacted', encodeRecordBatch({ records: mixed, compression: 1 }), 8)).toMatchObject({ errorCode: 87, recordErrors: [{ batchIndex: 2 }] });
    // Nothing of a refused batch was stored; a keyed batch (a tombstone included) is.
    expect(await produceTo('compacted', encodeRecordBatch({ records: [keyed(0), { key: Buffer.from('k1'), value: null, timestamp: 1 }] }), 9)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // A plain topic takes keyless records.
    expect(await produceTo('plain', batch(1), 9)).toMatchObject({ errorCode: 0 });
  });

  it('refuses a batch over the topic max.message.bytes with MESSAGE_TOO_LARGE', async () => {
    expect(await produceTo('small', batch(20))).toMatchObject({ errorCode: 10 });
    expect(await produceTo('small', batch(1))).toMatchObject({ errorCode: 0 });
  });

  it('refuses zstd before Produce v7 (KIP-110) and an unknown partition', async () => {
    expect(await produceTo('plain', batch(1, { compression: 4 }), 5)).toMatchObject({ errorCode: 76 });
    expect(await produceTo('plain', batch(1), 7, 9)).toMatchObject({ errorCode: 3 });
  });

  it('stamps LogAppendTime topics with the append time: attribute bit, maxTimestamp and a valid CRC', async () => {
    const before = Date.now();
    const r = await produceTo('appendtime', batch(2));
    expect(r.errorCode).toBe(0);
    expect(r.logAppendTimeMs as number).toBeGreaterThanOrEqual(before);
    const f = c.request(fetch, 4, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
      topics: [{ topic: 'appendtime', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    c.write(f.bytes);
    const records = (await c.response(fetch, 4)).body.responses[0].partitions[0].records as Buffer;
    const h = readRecordBatchHeader(records);
    expect(h.logAppendTime).toBe(true);
    expect(h.maxTimestamp).toBe(r.logAppendTimeMs);
    expect(verifyRecordBatchCrc(records)).toBe(true);
  });

  it('Fetch patches each stored batch with its partition offset and honours partition max bytes (first batch always whole)', async () => {
    const f = c.request(fetch, 4, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
      topics: [{ topic: 'plain', partitions: [{ partition: 0, fetchOffset: 3, partitionMaxBytes: 1 }] }],
    });
    c.write(f.bytes);
    const records = (await c.response(fetch, 4)).body.responses[0].partitions[0].records as Buffer;
    const h = readRecordBatchHeader(records);
    expect(h.baseOffset).toBe(3);
    expect(h.recordCount).toBe(2);
    expect(records.length).toBe(h.sizeBytes);
  });
});

describe('Produce under a resource alarm', () => {
  it('holds produce requests (unapplied, unanswered) while the core blocks publishers, then applies them in order', async () => {
    const vhost = b.core.vhost('/');
    const before = vhost.partitionOffsets('plain', 0).highWatermark;
    b.core.setAlarm('memory', true);
    const p1 = c.request(produce, 7, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'plain', partitionData: [{ index: 0, records: batch(1) }] }] });
    const p2 = c.request(produce, 7, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'plain', partitionData: [{ index: 0, records: batch(2) }] }] });
    c.write(Buffer.concat([p1.bytes, p2.bytes]));
    while (!b.logs.some((l) => l.msg === 'resource alarm: holding produce requests')) await new Promise((r) => setImmediate(r));
    expect(vhost.partitionOffsets('plain', 0).highWatermark).toBe(before);
    b.core.setAlarm('memory', false);
    const r1 = await c.response(produce, 7);
    const r2 = await c.response(produce, 7);
    expect(r1.correlationId).toBe(p1.correlationId);
    expect(r1.body.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: before });
    expect(r2.body.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: before + 1 });
  });
});

describe('Produce guard (the seam for idempotent producers, issue 9)', () => {
  it('lets a guard answer a duplicate with its original offset, refuse a batch, or append and learn the offset', async () => {
    const seen: number[] = [];
    const installed = b.adapter.node.produceGuard;
    b.adapter.node.produceGuard = {
      whenReady: () => null,
      check: (_t, _p, batch) => {
        const seq = batch.readInt32BE(53);
        if (seq === 0 && seen.length > 0) return { kind: 'duplicate', baseOffset: seen[0]! };
        if (seq > 5) return { kind: 'reject', errorCode: 45, errorMessage: 'out of order' };
        return { kind: 'append' };
      },
      appended: (_t, _p, _batch, baseOffset) => void seen.push(baseOffset),
    };
    try {
      const idem = (seq: number) => batch(1, { producerId: 7, producerEpoch: 0, baseSequence: seq });
      const first = await produceTo('plain', idem(0));
      const dup = await produceTo('plain', idem(0));
      const bad = await produceTo('plain', idem(9), 8);
      expect(first).toMatchObject({ errorCode: 0 });
      expect(dup).toMatchObject({ errorCode: 0, baseOffset: first.baseOffset });
      expect(bad).toMatchObject({ errorCode: 45, errorMessage: 'out of order' });
      expect(seen).toEqual([first.baseOffset]);
      // Plain producers never reach the guard.
      expect(await produceTo('plain', batch(1))).toMatchObject({ errorCode: 0 });
      expect(seen).toHaveLength(1);
    } finally {
      b.adapter.node.produceGuard = installed;
    }
  });
});

describe('Produce CRC on a LogAppendTime topic', () => {
  it('refuses a corrupt batch before restamping it (a recomputed CRC must not hide the corruption)', async () => {
    const bad = batch(1);
    bad[bad.length - 1] ^= 0xff;
    expect(await produceTo('appendtime', bad)).toMatchObject({ errorCode: 2 });
  });
});
