/**
 * A restart between a transaction's commit marker and the routing of its records (issue 9):
 * the state a crash leaves when PrepareCommit and the markers are durable but the routed copies
 * and CompleteCommit are not. The coordinator, recovering the PrepareCommit, finds the marker
 * already in the partition and routes the committed records from the log to an AMQP-style queue
 * bound to `amq.topic`, once: a second restart does not route them again. Before the commit, the
 * transactional records are not in the queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../storage/record-batch.js';
import { addPartitionsToTxn, createTopics, initProducerId, produce } from '../../../protocols/kafka/schema/apis.js';
import type { ApiDef } from '../../../protocols/kafka/schema/types.js';
import type { Message } from '../../../protocols/kafka/codec/schema-codec.js';
import { encodeTransactionMarker } from '../../../protocols/kafka/producers/control-batch.js';
import { TransactionLog } from '../../../protocols/kafka/transactions/transaction-log.js';
import type { Core } from '../../../src/core/index.js';
import { startInProcessKafka } from './helpers/in-process-broker.js';
import { RawKafkaClient } from './helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-kafka-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function call(c: RawKafkaClient, api: ApiDef, version: number, body: Message): Promise<Message> {
  c.write(c.request(api, version, body).bytes);
  return (await c.response(api, version)).body;
}

function drain(core: Core, queue: string): string[] {
  const ch = core.connect({ vhost: '/', protocol: 'amqp' }).openChannel();
  const out: string[] = [];
  for (let m = ch.get(queue, { noAck: true }); m !== null; m = ch.get(queue, { noAck: true })) out.push(m.message.body.toString());
  return out;
}

describe('routing committed records after a restart', () => {
  it('a PrepareCommit whose marker was written but whose records were not routed is routed on start, once', async () => {
    let b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir);
    const c = await RawKafkaClient.connect(b.port);
    const vhost = b.core.vhost('/');
    await call(c, createTopics, 4, { topics: [{ name: 'xr', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    await vhost.declareQueue('xr-q', { durable: true });
    await vhost.bindQueue('xr-q', 'amq.topic', 'xr');
    const init = await call(c, initProducerId, 1, { transactionalId: 'xr-t', transactionTimeoutMs: 60000 });
    const { producerId, producerEpoch } = init as { producerId: number; producerEpoch: number };
    const added = await call(c, addPartitionsToTxn, 1, {
      v3AndBelowTransactionalId: 'xr-t',
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'xr', partitions: [0] }],
    });
    expect(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
    const records = encodeRecordBatch({ records: ['t1', 't2', 't3'].map((v) => ({ value: Buffer.from(v) })), producerId, producerEpoch, baseSequence: 0, isTransactional: true });
    const res = await call(c, produce, 7, { transactionalId: 'xr-t', acks: -1, timeoutMs: 1000, topicData: [{ name: 'xr', partitionData: [{ index: 0, records }] }] });
    expect(res.responses[0].partitionResponses[0].errorCode).toBe(0);
    await vhost.produceRecords('xr', 0, [{ key: null, value: Buffer.from('plain') }]).durable;
    expect(drain(b.core, 'xr-q')).toEqual(['plain']); // the open transaction's records are held back

    // What a crash after the markers leaves: PrepareCommit and the marker durable, nothing routed, no Complete.
    const state = b.adapter.node.transactions.state('xr-t')!;
    await new TransactionLog(() => vhost).write({ ...state, status: 'PrepareCommit' });
    await vhost.produce('xr', 0, encodeTransactionMarker(producerId, producerEpoch, true, Date.now()), { durability: 'sync', route: false }).durable;
    expect(drain(b.core, 'xr-q')).toEqual([]);
    c.end();
    await b.stop();

    b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir);
    await b.adapter.node.producers.whenReady();
    expect(b.adapter.node.transactions.state('xr-t')!.status).toBe('CompleteCommit');
    await b.core.flush();
    expect(drain(b.core, 'xr-q')).toEqual(['t1', 't2', 't3']);
    await b.stop();

    // Complete is recorded now: another start routes nothing again.
    b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir);
    await b.adapter.node.producers.whenReady();
    expect(drain(b.core, 'xr-q')).toEqual([]);
    await b.stop();
  });

  it('copies a kill left on disk before CompleteCommit are not routed again on start (each copy carries its record identity)', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'pb-kafka-route-prefix-'));
    let b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir2);
    try {
      const c = await RawKafkaClient.connect(b.port);
      const vhost = b.core.vhost('/');
      await call(c, createTopics, 4, { topics: [{ name: 'xp', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
      await vhost.declareQueue('xp-q', { durable: true });
      await vhost.bindQueue('xp-q', 'amq.topic', 'xp');
      const init = await call(c, initProducerId, 1, { transactionalId: 'xp-t', transactionTimeoutMs: 60000 });
      const { producerId, producerEpoch } = init as { producerId: number; producerEpoch: number };
      await call(c, addPartitionsToTxn, 1, {
        v3AndBelowTransactionalId: 'xp-t',
        v3AndBelowProducerId: producerId,
        v3AndBelowProducerEpoch: producerEpoch,
        v3AndBelowTopics: [{ name: 'xp', partitions: [0, 1] }],
      });
      // Three batches of one record each per partition: t1..t3 on partition 0, u1..u3 on 1, at offsets 0..2.
      for (const [partition, name] of [[0, 't'], [1, 'u']] as const) {
        for (let i = 0; i < 3; i++) {
          const records = encodeRecordBatch({ records: [{ value: Buffer.from(`${name}${i + 1}`) }], producerId, producerEpoch, baseSequence: i, isTransactional: true });
          const res = await call(c, produce, 7, { transactionalId: 'xp-t', acks: -1, timeoutMs: 1000, topicData: [{ name: 'xp', partitionData: [{ index: partition, records }] }] });
          expect(res.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: i });
        }
      }
      // What a kill part-way through the commit's group write leaves: PrepareCommit, the marker,
      // and the routed copies of t1, t2 and u1 durable; the others and CompleteCommit lost.
      const state = b.adapter.node.transactions.state('xp-t')!;
      await new TransactionLog(() => vhost).write({ ...state, status: 'PrepareCommit' });
      for (const partition of [0, 1]) await vhost.produce('xp', partition, encodeTransactionMarker(producerId, producerEpoch, true, Date.now()), { durability: 'sync', route: false }).durable;
      expect(await vhost.routeStored([{ stream: 'xp', partition: 0, from: 0, to: 2, producerId }, { stream: 'xp', partition: 1, from: 0, to: 1, producerId }])).toBe(3);
      await b.core.flush();
      c.end();
      await b.stop();

      b = await startInProcessKafka({ producerSnapshotIntervalMs: 0 }, dir2);
      await b.adapter.node.producers.whenReady();
      expect(b.adapter.node.transactions.state('xp-t')!.status).toBe('CompleteCommit');
      await b.core.flush();
      // Without the identity check the restart routed t1, t2 and u1 a second time.
      expect(drain(b.core, 'xp-q').sort()).toEqual(['t1', 't2', 't3', 'u1', 'u2', 'u3']);
    } finally {
      await b.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
