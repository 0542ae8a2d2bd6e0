/**
 * Producer-state snapshots (issue 9): after a snapshot and more batches, a restart loads the
 * snapshot and replays only the batches written after it; the rebuilt state still recognises
 * duplicates of batches from before and after the snapshot (answered with their original
 * offset, not stored again) and continues the sequence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../storage/record-batch.js';
import { createTopics, deleteTopics, initProducerId, metadata, produce } from '../../../protocols/kafka/schema/apis.js';
import type { ApiDef } from '../../../protocols/kafka/schema/types.js';
import type { Message } from '../../../protocols/kafka/codec/schema-codec.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';
import { PartitionProducers } from '../../../protocols/kafka/producers/partition-producers.js';
import { restorePartition, snapshotPartition } from '../../../protocols/kafka/producers/producer-snapshots.js';
import { RawKafkaClient } from './helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-kafka-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function call(c: RawKafkaClient, api: ApiDef, version: number, body: Message): Promise<Message> {
  c.write(c.request(api, version, body).bytes);
  return (await c.response(api, version)).body;
}

const batch = (producerId: number, baseSequence: number, n = 2) =>
  encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`s${baseSequence + i}`), timestamp: 1_700_000_000_000 })),
    producerId,
    producerEpoch: 0,
    baseSequence,
  });

async function send(c: RawKafkaClient, records: Buffer): Promise<Message> {
  const r = await call(c, produce, 7, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'snap', partitionData: [{ index: 0, records }] }] });
  return r.responses[0].partitionResponses[0];
}

async function open(): Promise<{ b: InProcessKafka; c: RawKafkaClient }> {
  // Snapshots only when asked (interval 0), so what is replayed after the restart is known.
  const b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir);
  const c = await RawKafkaClient.connect(b.port);
  return { b, c };
}

describe('producer-state snapshots', () => {
  it('a restart loads the snapshot, replays only the tail, and still deduplicates', async () => {
    let { b, c } = await open();
    await call(c, createTopics, 4, { topics: [{ name: 'snap', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    const pid = (await call(c, initProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000 })).producerId as number;
    const offsets: number[] = [];
    for (let seq = 0; seq < 10; seq += 2) offsets.push((await send(c, batch(pid, seq))).baseOffset);
    for (let i = 0; i < 200; i++) await send(c, encodeRecordBatch({ records: [{ value: Buffer.from(`plain-${i}`) }] }));
    await b.adapter.node.producers.snapshot(b.core.vhost('/'));
    // The tail after the snapshot: two more batches of the producer.
    for (let seq = 10; seq < 14; seq += 2) offsets.push((await send(c, batch(pid, seq))).baseOffset);
    c.end();
    await b.stop();

    ({ b, c } = await open());
    await b.adapter.node.producers.whenReady();
    expect(b.adapter.node.producers.lastRecovery).toEqual({ fromSnapshot: true, batchesRead: 2 });
    expect(b.logs.some((l) => l.msg === 'producer state rebuilt' && l.fromSnapshot === true)).toBe(true);
    const end = b.core.vhost('/').partitionOffsets('snap', 0).highWatermark;
    // Duplicates of a batch from before the snapshot (one of the last five) and from the tail.
    expect(await send(c, batch(pid, 6))).toMatchObject({ errorCode: 0, baseOffset: offsets[3] });
    expect(await send(c, batch(pid, 12))).toMatchObject({ errorCode: 0, baseOffset: offsets[6] });
    expect(b.core.vhost('/').partitionOffsets('snap', 0).highWatermark).toBe(end);
    // A gap is still out of order; the next sequence is appended.
    expect(await send(c, batch(pid, 20))).toMatchObject({ errorCode: 45 });
    expect(await send(c, batch(pid, 14))).toMatchObject({ errorCode: 0, baseOffset: end });
    c.end();
    await b.stop();
  });

  it('Metadata lists __transaction_state as internal and never the snapshot log, which Kafka clients cannot create or delete either', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'pb-kafka-snap-meta-'));
    const b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir2);
    const c = await RawKafkaClient.connect(b.port);
    try {
      await call(c, createTopics, 4, { topics: [{ name: 'snap', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
      // A transactional id writes the coordinator's log; an idempotent batch then a snapshot writes the snapshot log.
      expect((await call(c, initProducerId, 1, { transactionalId: 'meta-tx', transactionTimeoutMs: 60000 })).errorCode).toBe(0);
      const pid = (await call(c, initProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000 })).producerId as number;
      expect((await send(c, batch(pid, 0))).errorCode).toBe(0);
      await b.adapter.node.producers.snapshot(b.core.vhost('/'));
      const names = b.core.vhost('/').streams().map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['__transaction_state', '__producer_snapshots']));

      const all = await call(c, metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const listed = (all.topics as Message[]).map((t) => [t.name, t.isInternal]);
      expect(listed).toEqual(expect.arrayContaining([['snap', false], ['__transaction_state', true]]));
      expect(listed.map(([n]) => n)).not.toContain('__producer_snapshots');
      const byName = await call(c, metadata, 12, { topics: [{ name: '__producer_snapshots', topicId: Buffer.alloc(16) }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
      expect(byName.topics).toMatchObject([{ name: '__producer_snapshots', errorCode: 3, partitions: [] }]);

      const created = await call(c, createTopics, 4, { topics: [{ name: '__producer_snapshots', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
      expect(created.topics).toMatchObject([{ name: '__producer_snapshots', errorCode: 42 }]);
      const deleted = await call(c, deleteTopics, 4, { topicNames: ['__producer_snapshots'], timeoutMs: 1000 });
      expect(deleted.responses).toMatchObject([{ name: '__producer_snapshots', errorCode: 3 }]);
      expect(b.core.vhost('/').stream('__producer_snapshots')).not.toBeNull();
    } finally {
      c.end();
      await b.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('a partition snapshot round-trips open, aborted and committed transactions (JSON)', () => {
    const p = new PartitionProducers();
    const h = (producerId: number, baseSequence: number, transactional: boolean) => ({ producerId, producerEpoch: 0, baseSequence, recordCount: 2, transactional, control: false });
    p.appended(h(1, 0, true), 10, 1000);
    p.ended(1, 0, false, 12); // aborted [10, 12]
    p.appended(h(1, 2, true), 13, 1001);
    p.ended(1, 0, true, 15); // committed [13, 15]
    p.appended(h(2, 0, true), 16, 1002); // open at 16
    p.appended(h(3, 0, false), 18, 1003);
    const snap = JSON.parse(JSON.stringify(snapshotPartition('t', 0, 20, 0, p))) as ReturnType<typeof snapshotPartition>;
    const q = new PartitionProducers();
    restorePartition(snap, q);
    expect(q.firstOpenOffset()).toBe(16);
    expect(q.abortedIn(0, 20)).toEqual([{ producerId: 1, firstOffset: 10, lastOffset: 12 }]);
    expect(q.lastCommitted.get(1)).toEqual([13, 15]);
    expect(q.check(h(3, 0, false))).toEqual({ kind: 'duplicate', baseOffset: 18 });
    expect(q.check(h(3, 2, false))).toEqual({ kind: 'append' });
    expect(q.ended(2, 0, true, 20)).toBe(16);
    expect(q.firstOpenOffset()).toBe(-1);
  });
});
