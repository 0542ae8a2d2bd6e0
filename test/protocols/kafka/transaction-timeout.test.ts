/**
 * Transaction timeouts (transaction.timeout.ms): the coordinator aborts a transaction open longer
 * than its timeout, bumps the epoch (the producer is fenced) and the partition's last stable
 * offset moves past the aborted records. Also transactional id expiry, and transactions left
 * open on a partition with no coordinator record (aborted on start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch } from '../../../storage/record-batch.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';

let b: InProcessKafka;
let kafka: Kafka;

beforeAll(async () => {
  b = await startInProcessKafka();
  kafka = new Kafka({ brokers: [`127.0.0.1:${b.port}`], clientId: 'txn-timeout', logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
});

afterAll(async () => {
  await b.stop();
});

describe('transaction timeout', () => {
  it('aborts the transaction, fences its producer and releases the last stable offset', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn-timeout', numPartitions: 1 }] });
    const producer = kafka.producer({ transactionalId: 'txn-timeout-1', transactionTimeout: 1000, maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'txn-timeout', messages: [{ value: 'never' }] });
    const vhost = b.core.vhost('/');
    expect(vhost.partitionOffsets('txn-timeout', 0)).toMatchObject({ highWatermark: 1, lastStableOffset: 0 });

    const tx = b.adapter.node.transactions;
    const epoch = tx.state('txn-timeout-1')!.producerEpoch;
    while (tx.state('txn-timeout-1')!.status !== 'CompleteAbort') await new Promise((r) => setTimeout(r, 50));
    expect(tx.state('txn-timeout-1')!.producerEpoch).toBe(epoch + 1);
    // The abort marker follows the record; nothing is open any more.
    expect(vhost.partitionOffsets('txn-timeout', 0)).toMatchObject({ highWatermark: 2, lastStableOffset: 2 });
    expect(b.adapter.node.producers.existing('txn-timeout', 0)!.aborted).toEqual([expect.objectContaining({ firstOffset: 0, lastOffset: 1 })]);
    await expect(txn.commit()).rejects.toThrow();
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect();
  });

  it('transactional.id.expiration.ms: an idle id is forgotten (Dead in __transaction_state) and a new producer gets a new producer id', async () => {
    const producer = kafka.producer({ transactionalId: 'txn-expire-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'txn-timeout', messages: [{ value: 'kept' }] });
    await t.commit();
    await producer.disconnect();
    const tx = b.adapter.node.transactions;
    const before = tx.state('txn-expire-1')!;
    expect(before.status).toBe('CompleteCommit');
    // Idle for longer than an expiration that ends a minute from now.
    await tx.expireIds(-60_000);
    expect(tx.state('txn-expire-1')).toBeUndefined();
    const again = kafka.producer({ transactionalId: 'txn-expire-1', maxInFlightRequests: 1, idempotent: true });
    await again.connect();
    const t2 = await again.transaction();
    await t2.send({ topic: 'txn-timeout', messages: [{ value: 'new' }] });
    await t2.commit();
    await again.disconnect();
    expect(tx.state('txn-expire-1')!.producerId).not.toBe(before.producerId);
    expect(tx.state('txn-expire-1')!.producerEpoch).toBe(0);
  });
});

describe('transactions left open on a partition', () => {
  it('are aborted on start when no coordinator record knows them (a marker lost in a crash)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-kafka-orphan-'));
    let k = await startInProcessKafka({}, dir);
    try {
      const vhost = k.core.vhost('/');
      await vhost.declareStream('orphan', { partitions: 1 });
      const batch = encodeRecordBatch({
        records: [{ key: null, value: Buffer.from('orphan'), timestamp: Date.now() }],
        producerId: 424242,
        producerEpoch: 0,
        baseSequence: 0,
        isTransactional: true,
      });
      // Stored without going through the Produce path: no coordinator record, no producer state yet.
      await vhost.produce('orphan', 0, batch, { durability: 'sync' }).durable;
      await k.stop();
      k = await startInProcessKafka({}, dir);
      await k.adapter.node.producers.whenReady();
      expect(k.core.vhost('/').partitionOffsets('orphan', 0)).toMatchObject({ highWatermark: 2, lastStableOffset: 2 });
      expect(k.adapter.node.producers.existing('orphan', 0)!.aborted).toEqual([{ producerId: 424242, firstOffset: 0, lastOffset: 1 }]);
    } finally {
      await k.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
