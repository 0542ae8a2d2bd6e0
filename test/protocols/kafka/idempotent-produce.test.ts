/**
 * The Produce path with the real producer guard, over the wire: InitProducerId at every version,
 * duplicates answered with their original offset, OUT_OF_ORDER_SEQUENCE_NUMBER (45),
 * INVALID_PRODUCER_EPOCH (47), INVALID_TXN_STATE (48) in the partition response; and the
 * transactional InitProducerId errors (PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before,
 * INVALID_TRANSACTION_TIMEOUT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../storage/record-batch.js';
import { createTopics, initProducerId, produce } from '../../../protocols/kafka/schema/apis.js';
import type { ApiDef } from '../../../protocols/kafka/schema/types.js';
import type { Message } from '../../../protocols/kafka/codec/schema-codec.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';
import { RawKafkaClient } from './helpers/raw-client.js';

let b: InProcessKafka;
let c: RawKafkaClient;

async function call(api: ApiDef, version: number, body: Message): Promise<Message> {
  c.write(c.request(api, version, body).bytes);
  return (await c.response(api, version)).body;
}

beforeAll(async () => {
  b = await startInProcessKafka();
  c = await RawKafkaClient.connect(b.port);
  const res = await call(createTopics, 4, {
    topics: [{ name: 'idem', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  expect(res.topics[0].errorCode).toBe(0);
});

afterAll(async () => {
  c.end();
  await b.stop();
});

const batch = (producerId: number, producerEpoch: number, baseSequence: number, n = 1, isTransactional = false) =>
  encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`s${baseSequence + i}`), timestamp: 1_700_000_000_000 })),
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional,
  });

async function send(records: Buffer): Promise<Message> {
  const r = await call(produce, 7, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'idem', partitionData: [{ index: 0, records }] }] });
  return r.responses[0].partitionResponses[0];
}

describe('InitProducerId', () => {
  it('hands out increasing producer ids at epoch 0 at every version (0-5)', async () => {
    const ids: number[] = [];
    for (let v = 0; v <= 5; v++) {
      const r = await call(initProducerId, v, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      expect(r).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      ids.push(r.producerId);
    }
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(6);
  });

  it('transactional: bumps the epoch of a known id; a stale id/epoch is PRODUCER_FENCED (v4+) or INVALID_PRODUCER_EPOCH (v3); a bad timeout is INVALID_TRANSACTION_TIMEOUT', async () => {
    const first = await call(initProducerId, 4, { transactionalId: 'raw-tx', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(first).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const bumped = await call(initProducerId, 4, { transactionalId: 'raw-tx', transactionTimeoutMs: 60000, producerId: first.producerId, producerEpoch: 0 });
    expect(bumped).toMatchObject({ errorCode: 0, producerId: first.producerId, producerEpoch: 1 });
    expect(await call(initProducerId, 4, { transactionalId: 'raw-tx', transactionTimeoutMs: 60000, producerId: first.producerId, producerEpoch: 0 })).toMatchObject({ errorCode: 90 });
    expect(await call(initProducerId, 3, { transactionalId: 'raw-tx', transactionTimeoutMs: 60000, producerId: first.producerId, producerEpoch: 0 })).toMatchObject({ errorCode: 47 });
    expect(await call(initProducerId, 1, { transactionalId: 'raw-tx', transactionTimeoutMs: 0 })).toMatchObject({ errorCode: 50 });
  });
});

describe('Produce with a producer id', () => {
  it('duplicates get the original offset, gaps OUT_OF_ORDER_SEQUENCE_NUMBER, old epochs INVALID_PRODUCER_EPOCH, nothing stored twice', async () => {
    const pid = (await call(initProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000 })).producerId as number;
    const a = await send(batch(pid, 0, 0, 3));
    const bb = await send(batch(pid, 0, 3, 2));
    expect([a.errorCode, a.baseOffset, bb.errorCode, bb.baseOffset]).toEqual([0, 0, 0, 3]);
    expect(await send(batch(pid, 0, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await send(batch(pid, 0, 3, 2))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    expect(await send(batch(pid, 0, 7))).toMatchObject({ errorCode: 45 });
    // A new epoch starts at sequence 0; the old epoch is then refused.
    expect(await send(batch(pid, 1, 0))).toMatchObject({ errorCode: 0, baseOffset: 5 });
    expect(await send(batch(pid, 0, 5))).toMatchObject({ errorCode: 47 });
    expect(b.core.vhost('/').partitionOffsets('idem', 0).highWatermark).toBe(6);
  });

  it('refuses produce to the internal __transaction_state topic (INVALID_TOPIC_EXCEPTION)', async () => {
    const r = await call(produce, 7, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: '__transaction_state', partitionData: [{ index: 0, records: batch(-1, -1, -1) }] }] });
    expect(r.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 17 });
  });

  it('a plain batch from a producer inside a transaction is INVALID_TXN_STATE, and the open transaction holds the last stable offset', async () => {
    const pid = (await call(initProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000 })).producerId as number;
    const start = b.core.vhost('/').partitionOffsets('idem', 0).highWatermark;
    expect(await send(batch(pid, 0, 0, 1, true))).toMatchObject({ errorCode: 0, baseOffset: start });
    expect(await send(batch(pid, 0, 1))).toMatchObject({ errorCode: 48 });
    expect(b.core.vhost('/').partitionOffsets('idem', 0)).toMatchObject({ highWatermark: start + 1, lastStableOffset: start });
  });
});
